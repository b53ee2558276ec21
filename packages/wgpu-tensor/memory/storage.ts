import type { Device } from "../device/device.ts";

/**
 * A GPU buffer shared by one or more tensors (a reshape shares its source's storage). The buffer
 * goes back to the pool when the last tensor holding it lets go.
 */
export class Storage {
  readonly device: Device;
  readonly buffer: GPUBuffer;
  /** Bytes of data (the buffer itself may be larger: it is rounded to a pool bucket or to 16 bytes). */
  readonly byteLength: number;
  #refs = 1;

  /** `exact`: sized to the data (16-byte multiple) instead of a pool bucket; for long-lived tensors. */
  constructor(device: Device, byteLength: number, options: { exact?: boolean } = {}) {
    this.device = device;
    this.byteLength = byteLength;
    this.buffer = device.pool.acquire(Math.max(byteLength, 4), options);
  }

  retain(): this {
    this.#refs++;
    return this;
  }

  release(): void {
    this.#refs--;
    if (this.#refs === 0) this.device.pool.release(this.buffer);
  }
}
