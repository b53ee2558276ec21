/** The GPU device was lost (driver reset, `destroy()`, out of memory). Make a new `Device`. */
export class DeviceLostError extends Error {
  override name = "DeviceLostError";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`The WebGPU device was lost (${reason}): ${message}. Create a new device with Device.create()`);
  }
}

/** Work was asked of a device after its `destroy()`; tensors of that device can no longer be used. */
export class DeviceDestroyedError extends Error {
  override name = "DeviceDestroyedError";
  constructor(readonly op: string) {
    super(`Cannot run ${op}: the device was destroyed`);
  }
}

/** A WGSL kernel failed to compile or its pipeline failed validation. */
export class KernelCompileError extends Error {
  override name = "KernelCompileError";
  constructor(
    readonly key: string,
    readonly compilerMessages: readonly string[],
    readonly source: string,
  ) {
    super(`Cannot compile kernel "${key}":\n${compilerMessages.join("\n")}`);
  }
}

/** WebGPU reported a validation or out-of-memory error for submitted work. */
export class GpuError extends Error {
  override name = "GpuError";
  constructor(
    readonly context: string,
    message: string,
  ) {
    super(`WebGPU error in ${context}: ${message}`);
  }
}

/** No WebGPU adapter could be found in this environment. */
export class NoAdapterError extends Error {
  override name = "NoAdapterError";
}
