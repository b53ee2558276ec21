// Starts the second peer, onnxruntime-web's WebGPU execution provider, on the Dawn instance our
// Device uses. onnxruntime-web 1.30's "onnxruntime-web/webgpu" bundle runs ORT's native WebGPU EP
// (C++ compiled with emdawnwebgpu, the asyncify build `ort-wasm-simd-threaded.asyncify.{mjs,wasm}`,
// read from node_modules with `fs` by its Emscripten loader). From inside wasm it calls
// `navigator.gpu.requestAdapter()` and `adapter.requestDevice()` itself, the first time a session is
// created with executionProviders ["webgpu"]; so `navigator` is set to `{ gpu }` until then, as
// for tfjs, and deleted afterwards.
//
// One shim is needed, measured in probes/ort_webgpu_node.ts: the wasm heap is a shared
// WebAssembly.Memory, and ORT uploads through `queue.writeBuffer(buffer, offset, HEAPU8.subarray(…))`.
// dawn.node rejects a view over a SharedArrayBuffer ("Invalid argument", or a segfault for a small
// one), so the device ORT requests gets a `writeBuffer` that copies such views first. Nothing else
// of ORT is changed: it chooses its own features and limits, kernels, layout and buffer caches.
import type * as Ort from "onnxruntime-web/webgpu";
import { nodeGpu } from "@spo/wgpu-tensor/node";
import { onnxModel } from "./onnx_model.ts";

/** onnxruntime-web's namespace, as imported. */
export type OrtModule = typeof Ort;

/** The peer: onnxruntime-web's WebGPU EP running on our Dawn instance's adapter. */
export interface OrtPeer {
  ort: OrtModule;
  /** The GPUDevice ORT requested from the adapter (not ours): its passes get the harness's timestamps. */
  gpu: GPUDevice;
  /** The adapter, as the device ORT uses describes it. */
  adapterDescription: string;
  /** Creates a WebGPU session for a serialized model, keeping outputs on the GPU. */
  createSession(model: Uint8Array, options?: Ort.InferenceSession.WebGpuExecutionProviderOption): Promise<Ort.InferenceSession>;
}

const keptSessions: Ort.InferenceSession[] = [];

/**
 * Imports onnxruntime-web's WebGPU bundle and creates one tiny session, so ORT requests its device
 * from dawn.node's GPU object for `dawnOptions` (the one `Device.create({ dawnOptions })` used).
 *
 * @example
 * ```ts
 * const peer = await startOrtPeer([]);
 * console.log(peer.adapterDescription); // "llvmpipe: Mesa 25.0.7 …"
 * ```
 */
export async function startOrtPeer(dawnOptions: readonly string[]): Promise<OrtPeer> {
  const gpu = await nodeGpu(dawnOptions);
  const devices: GPUDevice[] = [];
  const global = globalThis as { navigator?: unknown };
  if ("navigator" in global) throw new Error("Cannot start the ORT peer: a global navigator exists already, ORT would not see dawn.node");
  global.navigator = { gpu: withUnsharedWrites(gpu, devices) };
  try {
    const ort = await import("onnxruntime-web/webgpu");
    // Node has no Web Worker for ORT's wasm threads; the EP's work is on the GPU anyway.
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = "warning";
    const createSession = (model: Uint8Array, options: Ort.InferenceSession.WebGpuExecutionProviderOption = { name: "webgpu" }) =>
      ort.InferenceSession.create(model, { executionProviders: [options], preferredOutputLocation: "gpu-buffer" });
    // ORT's WebGPU context (and device) lives while a session does ("PreserveDevice: 0" in its
    // log): releasing the last one makes the next session ask navigator.gpu for a new device. This
    // first session is therefore kept for the life of the process.
    keptSessions.push(
      await createSession(
        onnxModel({
          nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
          inputs: [{ name: "x", shape: [4] }],
          outputs: [{ name: "y", shape: [4] }],
        }),
      ),
    );
    // typed as a promise; after the first session it is the device itself (awaiting either works)
    const device: GPUDevice | undefined = await ort.env.webgpu.device;
    if (!device || !devices.includes(device))
      throw new Error("Cannot start the ORT peer: ORT did not request its device through navigator.gpu");
    const info = device.adapterInfo;
    const adapterDescription = info ? info.description || `${info.vendor} ${info.architecture}` : "unknown";
    return { ort, gpu: device, adapterDescription, createSession };
  } finally {
    delete global.navigator;
  }
}

/** dawn.node's GPU object, whose adapters hand out devices with `unsharedWrites` applied. */
function withUnsharedWrites(
  gpu: GPU,
  devices: GPUDevice[],
): Pick<GPU, "requestAdapter" | "getPreferredCanvasFormat" | "wgslLanguageFeatures"> {
  return {
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    async requestAdapter(options) {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) return adapter;
      const requestDevice = adapter.requestDevice.bind(adapter);
      (adapter as { requestDevice: GPUAdapter["requestDevice"] }).requestDevice = async (descriptor) => {
        const device = await requestDevice(descriptor);
        unsharedWrites(device.queue);
        devices.push(device);
        return device;
      };
      return adapter;
    },
  };
}

/**
 * Makes `queue.writeBuffer` copy a view over a SharedArrayBuffer into a plain one first: dawn.node
 * cannot read shared memory (it throws "Invalid argument" or crashes).
 */
function unsharedWrites(queue: GPUQueue): void {
  const writeBuffer = queue.writeBuffer.bind(queue);
  (queue as { writeBuffer: GPUQueue["writeBuffer"] }).writeBuffer = (buffer, bufferOffset, data, dataOffset, size) => {
    const isShared = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer;
    // slice() on a typed array allocates a new, unshared ArrayBuffer
    const plain = isShared ? (data as Uint8Array).slice() : data;
    writeBuffer(buffer, bufferOffset, plain, dataOffset, size);
  };
}
