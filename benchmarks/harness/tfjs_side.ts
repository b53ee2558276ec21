import type * as TfCore from "@tensorflow/tfjs-core";
import type { Side } from "./bench_case.ts";

/** tfjs-core's namespace, as imported. */
export type Tf = typeof TfCore;

/** The peer: tfjs-core with tfjs-backend-webgpu running on our Dawn instance's adapter. */
export interface TfjsPeer {
  tf: Tf;
  /** The GPUDevice tfjs-backend-webgpu requested from the adapter (not ours). */
  gpu: GPUDevice;
  /** The adapter, as the device tfjs uses describes it. */
  adapterDescription: string;
  /** Submits tfjs's pending command encoder and waits for the GPU to finish it. */
  sync(): Promise<void>;
  /** Registers tfjs-core's gradient functions (for `tf.grads`); slow the first time, then a no-op. */
  registerGradients(): void;
}

/** What the harness touches of tfjs-backend-webgpu's backend object (public JS, untyped in d.ts). */
export interface WebGpuBackendInternals {
  device: GPUDevice;
  queue: GPUQueue;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Submits what tfjs-backend-webgpu has recorded but not submitted (it submits every 15
 * dispatches, WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE, and at readback) and waits for the queue: the
 * "submitted-work completion" point without reading a tensor back.
 */
export async function syncTfjs(backend: WebGpuBackendInternals): Promise<void> {
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.queue.onSubmittedWorkDone();
}

export interface TfjsSideOptions {
  /** Turns the peer's answer into our layout (e.g. NHWC → NCHW) for the check. */
  toOurs?: (data: Float32Array) => Float32Array;
}

/**
 * The peer side of a case: `run` composes tfjs ops (inside `tf.tidy`, so only the answer survives).
 *
 * @example
 * ```ts
 * const side = tfjsSide(peer, () => peer.tf.softmax(x));
 * ```
 */
export function tfjsSide(peer: TfjsPeer, run: () => TfCore.Tensor, options: TfjsSideOptions = {}): Side<TfCore.Tensor> {
  return {
    label: "tfjs-webgpu",
    gpu: peer.gpu,
    run: () => peer.tf.tidy(run),
    sync: () => peer.sync(),
    async read(result) {
      const data = Float32Array.from((await result.data()) as Float32Array);
      return options.toOurs ? options.toOurs(data) : data;
    },
    release: (result) => result.dispose(),
  };
}
