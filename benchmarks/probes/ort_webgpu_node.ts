// Does onnxruntime-web's WebGPU EP run on dawn.node? `node --conditions=@spo/source --import tsx
// benchmarks/probes/ort_webgpu_node.ts` runs three modes, each in its own process (one crashes):
//   sab:   dawn.node's queue.writeBuffer given a view over a SharedArrayBuffer, no ORT involved
//   plain: a 2×3·3×4 MatMul session with executionProviders ["webgpu"] and navigator = { gpu }
//   shim:  the same through startOrtPeer (harness/ort_peer_node.ts), which copies shared views
// Measured on lavapipe (Mesa 25.0.7), dawn.node 0.6.2 (npm webgpu), onnxruntime-web 1.30.0:
//   sab   → killed by SIGSEGV
//   plain → session created, run throws "Error: Invalid argument" from writeBuffer (ORT's wasm
//           heap is a shared WebAssembly.Memory, so its uploads are views over a SharedArrayBuffer)
//   shim  → [32, 38, 44, 50, 68, 83, 98, 113], the right product
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nodeGpu } from "@spo/wgpu-tensor/node";
import { onnxModel } from "../harness/onnx_model.ts";
import { startOrtPeer } from "../harness/ort_peer_node.ts";

const MODEL = onnxModel({
  nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
  inputs: [
    { name: "a", shape: [2, 3] },
    { name: "b", shape: [3, 4] },
  ],
  outputs: [{ name: "y", shape: [2, 4] }],
});
const A = Float32Array.from([1, 2, 3, 4, 5, 6]);
const B = Float32Array.from({ length: 12 }, (_, i) => i);

/** Writes 64 bytes from a SharedArrayBuffer view through dawn.node. */
async function sharedWrite(): Promise<void> {
  const gpu = await nodeGpu([]);
  const device = await (await gpu.requestAdapter())!.requestDevice();
  const buffer = device.createBuffer({ size: 64, usage: GPUBufferUsage.COPY_DST });
  // what ORT's wasm passes: a Uint8Array over shared memory (the WebGPU types reject it, so cast)
  const view = new Uint8Array(new SharedArrayBuffer(64)) as unknown as Uint8Array<ArrayBuffer>;
  device.queue.writeBuffer(buffer, 0, view);
  await device.queue.onSubmittedWorkDone();
  console.log("writeBuffer accepted the shared view");
}

/** The MatMul on ORT's WebGPU EP with navigator.gpu = dawn.node's GPU, as tfjs is started. */
async function plainMatmul(): Promise<void> {
  (globalThis as { navigator?: unknown }).navigator = { gpu: await nodeGpu([]) };
  const ort = await import("onnxruntime-web/webgpu");
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(MODEL, { executionProviders: ["webgpu"] });
  console.log("session created");
  const outputs = await session.run({ a: new ort.Tensor("float32", A, [2, 3]), b: new ort.Tensor("float32", B, [3, 4]) });
  console.log("y =", [...(outputs.y.data as Float32Array)]);
}

/** The MatMul through the harness's peer, whose device copies shared views before writeBuffer. */
async function shimMatmul(): Promise<void> {
  const peer = await startOrtPeer([]);
  const session = await peer.ort.InferenceSession.create(MODEL, { executionProviders: ["webgpu"] });
  const outputs = await session.run({ a: new peer.ort.Tensor("float32", A, [2, 3]), b: new peer.ort.Tensor("float32", B, [3, 4]) });
  console.log("y =", [...(outputs.y.data as Float32Array)], "(expected 32 38 44 50 68 83 98 113)");
}

const modes: Record<string, () => Promise<void>> = { sab: sharedWrite, plain: plainMatmul, shim: shimMatmul };
const mode = process.argv[2];
if (mode) {
  await modes[mode]();
} else {
  for (const name of Object.keys(modes)) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { encoding: "utf8" });
    const lines = `${child.stdout}${child.stderr}`.split("\n");
    // Dawn's limit warnings, wasm stack frames and the minified source line Node quotes are noise here
    const isNoise = (line: string) =>
      line.trim() === "" || line.trim() === "^" || line.length > 200 || line.startsWith("Warning:") || line.includes("wasm-function");
    const kept = lines.filter((line) => !isNoise(line));
    const ending = child.signal ? `killed by ${child.signal}` : `exit status ${child.status}`;
    console.log(`${name}: ${ending}\n  ${kept.slice(0, 6).join("\n  ")}`);
  }
}
