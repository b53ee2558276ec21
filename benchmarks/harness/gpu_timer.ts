// GPU timing without touching the library: the harness wraps a GPUDevice's createCommandEncoder so
// that, while a timer runs, every compute pass it begins writes a timestamp at its start and end.
// The GPU time of a run is the sum of its passes (gaps between submits, where the host records
// work, are not counted). Works the same for our queue, tfjs-backend-webgpu and raw Dawn loops,
// since all of them record compute passes on an encoder from `device.createCommandEncoder()`.

const QUERY_CAPACITY = 4096;
const timers = new WeakMap<GPUDevice, PassTimer>();

/** Times compute passes on one GPUDevice with `timestamp-query`. */
export class PassTimer {
  readonly #gpu: GPUDevice;
  readonly #createEncoder: (descriptor?: GPUCommandEncoderDescriptor) => GPUCommandEncoder;
  readonly #querySet: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  #used = 0;
  /** Labels of the pipelines set in each timed pass, by pass. */
  #passLabels: Set<string>[] = [];
  #isActive = false;
  #overflowed = false;

  private constructor(gpu: GPUDevice) {
    this.#gpu = gpu;
    this.#createEncoder = gpu.createCommandEncoder.bind(gpu);
    this.#querySet = gpu.createQuerySet({ type: "timestamp", count: QUERY_CAPACITY, label: "bench_timer" });
    this.#resolve = gpu.createBuffer({
      label: "bench_timer_resolve",
      size: QUERY_CAPACITY * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    (gpu as { createCommandEncoder: GPUDevice["createCommandEncoder"] }).createCommandEncoder = (descriptor) => {
      const encoder = this.#createEncoder(descriptor);
      const beginPass = encoder.beginComputePass.bind(encoder);
      (encoder as { beginComputePass: GPUCommandEncoder["beginComputePass"] }).beginComputePass = (descriptor = {}) => {
        if (!this.#isActive) return beginPass(descriptor);
        const pass = beginPass(this.#withTimestamps(descriptor));
        const labels = new Set<string>();
        this.#passLabels.push(labels);
        const setPipeline = pass.setPipeline.bind(pass);
        (pass as { setPipeline: GPUComputePassEncoder["setPipeline"] }).setPipeline = (pipeline) => {
          labels.add(pipeline.label || "unlabelled");
          setPipeline(pipeline);
        };
        return pass;
      };
      return encoder;
    };
  }

  /**
   * The timer of a device, installed on first use; null when the device lacks `timestamp-query`.
   * Install it before any encoder you want timed is created.
   */
  static for(gpu: GPUDevice): PassTimer | null {
    if (!gpu.features.has("timestamp-query")) return null;
    let timer = timers.get(gpu);
    if (!timer) {
      timer = new PassTimer(gpu);
      timers.set(gpu, timer);
    }
    return timer;
  }

  /** Starts timing the passes begun from now on. Call with no pass open (after a sync). */
  begin(): void {
    this.#used = 0;
    this.#passLabels = [];
    this.#overflowed = false;
    this.#isActive = true;
  }

  /**
   * Stops timing and returns the summed GPU milliseconds of the passes begun since `begin()`, or
   * null if there were none or more than the query set holds. Call after the work has completed.
   */
  async end(): Promise<number | null> {
    const passes = await this.endWithPasses();
    return passes === null ? null : passes.reduce((total, pass) => total + pass.ms, 0);
  }

  /**
   * Like `end()`, but per pass: its GPU milliseconds and the pipelines it ran (a profile, when the
   * work was recorded one dispatch per pass).
   */
  async endWithPasses(): Promise<{ labels: string[]; ms: number }[] | null> {
    this.#isActive = false;
    const count = this.#used;
    if (count === 0 || this.#overflowed) return null;
    const staging = this.#gpu.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.#createEncoder({ label: "bench_timer_read" });
    encoder.resolveQuerySet(this.#querySet, 0, count, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, staging, 0, count * 8);
    this.#gpu.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      const passes: { labels: string[]; ms: number }[] = [];
      for (let i = 0; i < count; i += 2) {
        const nanoseconds = stamps[i + 1] > stamps[i] ? stamps[i + 1] - stamps[i] : 0n;
        passes.push({ labels: [...(this.#passLabels[i / 2] ?? [])], ms: Number(nanoseconds) / 1e6 });
      }
      return passes;
    } finally {
      staging.destroy();
    }
  }

  #withTimestamps(pass: GPUComputePassDescriptor): GPUComputePassDescriptor {
    if (pass.timestampWrites || this.#used + 2 > QUERY_CAPACITY) {
      this.#overflowed = true;
      return pass;
    }
    const begin = this.#used;
    this.#used += 2;
    return {
      ...pass,
      timestampWrites: { querySet: this.#querySet, beginningOfPassWriteIndex: begin, endOfPassWriteIndex: begin + 1 },
    };
  }
}
