/** Counters a user can read to see where GPU memory goes. */
export interface MemoryStats {
  /** Bytes held by live tensors (rounded up to the pool's bucket sizes; parameters to 16 bytes). */
  liveBytes: number;
  /** Bytes kept in the pool for reuse, including those waiting for their last submit. */
  pooledBytes: number;
  /** The highest `liveBytes` seen since the device was made (or since `resetPeak()`). */
  peakBytes: number;
  /** Number of live GPU buffers handed out by the pool. */
  liveBuffers: number;
}

export interface BufferPoolOptions {
  /** Pooled bytes above this are destroyed instead of kept. Default: 1 GiB. */
  capBytes?: number;
}

const MIN_BUCKET_BYTES = 256;
const USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

/**
 * Rounds a size up to its bucket: powers of two split into four steps, so at most 25% is wasted
 * while one free list serves many nearby sizes (unlike pools keyed on exact size).
 */
export function bucketBytes(byteLength: number): number {
  if (byteLength <= MIN_BUCKET_BYTES) return MIN_BUCKET_BYTES;
  const octave = 2 ** Math.floor(Math.log2(byteLength - 1));
  const step = octave / 4;
  return Math.ceil(byteLength / step) * step;
}

/**
 * The size of a buffer allocated for `byteLength` bytes without a bucket: a multiple of 16 bytes,
 * so a vec4 read of the last elements stays inside. For long-lived tensors (parameters), where a
 * bucket's up-to-25 % slack would be held for the model's whole life.
 */
export function exactBytes(byteLength: number): number {
  return Math.max(16, Math.ceil(byteLength / 16) * 16);
}

/**
 * Storage buffers by size bucket. A released buffer is not reused until the commands already
 * recorded against it are submitted (`onSubmit`), because a later `queue.writeBuffer` to a reused
 * buffer would otherwise overtake reads that are still waiting in the open command encoder.
 */
export class BufferPool {
  readonly #gpu: GPUDevice;
  readonly #capBytes: number;
  readonly #free = new Map<number, GPUBuffer[]>();
  #waitingForSubmit: GPUBuffer[] = [];
  #liveBytes = 0;
  #pooledBytes = 0;
  #peakBytes = 0;
  #liveBuffers = 0;

  constructor(gpu: GPUDevice, options: BufferPoolOptions = {}) {
    this.#gpu = gpu;
    this.#capBytes = options.capBytes ?? 2 ** 30;
  }

  /** A buffer of at least `byteLength` bytes: bucket-sized (reusable), or with `exact`, see {@link exactBytes}. */
  acquire(byteLength: number, options: { exact?: boolean } = {}): GPUBuffer {
    const size = options.exact ? exactBytes(byteLength) : bucketBytes(byteLength);
    const reused = this.#free.get(size)?.pop();
    const buffer = reused ?? this.#gpu.createBuffer({ size, usage: USAGE, label: `pool_${size}` });
    if (reused) this.#pooledBytes -= size;
    this.#liveBytes += size;
    this.#liveBuffers++;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.#liveBytes -= buffer.size;
    this.#liveBuffers--;
    this.#pooledBytes += buffer.size;
    this.#waitingForSubmit.push(buffer);
  }

  /** Called after each queue submit: released buffers become reusable, over-cap ones are destroyed. */
  onSubmit(): void {
    for (const buffer of this.#waitingForSubmit) {
      // an exact-size buffer that is no bucket's size would wait for a request of its very size
      if (this.#pooledBytes > this.#capBytes || bucketBytes(buffer.size) !== buffer.size) {
        this.#pooledBytes -= buffer.size;
        buffer.destroy();
        continue;
      }
      let list = this.#free.get(buffer.size);
      if (!list) this.#free.set(buffer.size, (list = []));
      list.push(buffer);
    }
    this.#waitingForSubmit = [];
  }

  /** Destroys every pooled buffer that is free now. */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        this.#pooledBytes -= buffer.size;
        buffer.destroy();
      }
    }
    this.#free.clear();
  }

  stats(): MemoryStats {
    return {
      liveBytes: this.#liveBytes,
      pooledBytes: this.#pooledBytes,
      peakBytes: this.#peakBytes,
      liveBuffers: this.#liveBuffers,
    };
  }

  resetPeak(): void {
    this.#peakBytes = this.#liveBytes;
  }
}
