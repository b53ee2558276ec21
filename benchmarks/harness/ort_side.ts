import type * as Ort from "onnxruntime-web/webgpu";
import type { Side } from "./bench_case.ts";
import type { OrtPeer } from "./ort_peer_node.ts";

/** An ONNX input fed to every run: values and shape, uploaded once to ORT's device. */
export interface OrtFeed {
  name: string;
  values: Float32Array;
  shape: readonly number[];
}

export interface OrtSideOptions {
  /** Turns ORT's answer into our layout (e.g. NHWC → NCHW) for the check. */
  toOurs?: (data: Float32Array) => Float32Array;
}

/** An ORT side, and what it holds on ORT's device until `dispose()`. */
export interface OrtSide extends Side<Promise<Ort.Tensor>> {
  dispose(): void;
}

/**
 * The ORT side of a case: `run` is one `session.run` on inputs that already live in GPU buffers
 * (`Tensor.fromGpuBuffer`), and its output stays on the GPU (`preferredOutputLocation`), so a run
 * moves no data between host and device, like ours and tfjs's. `session.run` is async (ORT's
 * wasm yields while it waits on Dawn): `run` returns its promise and `sync` awaits it before
 * waiting for the queue.
 *
 * @example
 * ```ts
 * const side = ortSide(peer, session, [{ name: "x", values, shape: [8192, 1024] }]);
 * ```
 */
export function ortSide(peer: OrtPeer, session: Ort.InferenceSession, feeds: readonly OrtFeed[], options: OrtSideOptions = {}): OrtSide {
  const buffers: GPUBuffer[] = [];
  const inputs: Record<string, Ort.Tensor> = {};
  for (const feed of feeds) {
    const buffer = peer.gpu.createBuffer({
      label: `ort_input_${feed.name}`,
      size: feed.values.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    // a copy over a plain ArrayBuffer (the type of `values` admits a shared one)
    peer.gpu.queue.writeBuffer(buffer, 0, Float32Array.from(feed.values));
    buffers.push(buffer);
    inputs[feed.name] = peer.ort.Tensor.fromGpuBuffer(buffer, { dataType: "float32", dims: feed.shape });
  }
  const outputName = session.outputNames[0];
  let pending: Promise<unknown> | null = null;
  return {
    label: "ort-webgpu",
    gpu: peer.gpu,
    run() {
      const result = session.run(inputs).then((outputs) => outputs[outputName]);
      pending = result;
      return result;
    },
    async sync() {
      await pending;
      pending = null;
      await peer.gpu.queue.onSubmittedWorkDone();
    },
    async read(result) {
      const data = Float32Array.from((await (await result).getData()) as Float32Array);
      return options.toOurs ? options.toOurs(data) : data;
    },
    release(result) {
      // a failed run was already reported by sync()
      result.then(
        (tensor) => tensor.dispose(),
        () => {},
      );
    },
    dispose() {
      void session.release();
      for (const buffer of buffers) buffer.destroy();
    },
  };
}
