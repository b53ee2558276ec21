// Starts the peer, tfjs-backend-webgpu, on the Dawn instance our Device uses. tfjs registers its
// "webgpu" backend at import time only if `navigator.gpu` exists (Node 20 has no `navigator`), and
// its backend constructor checks it again; afterwards it only uses the GPUDevice it requested. So
// `navigator` is set to `{ gpu }` (dawn.node's GPU object) from the import until the backend is
// ready, then deleted: a lingering `navigator` holding Dawn's GPU keeps Node from exiting.
import { createRequire } from "node:module";
import { nodeGpu } from "@spo/wgpu-tensor/node";
import { syncTfjs, type TfjsPeer, type WebGpuBackendInternals } from "./tfjs_side.ts";

/**
 * Imports tfjs-core and tfjs-backend-webgpu, selects the "webgpu" backend on the adapter of
 * dawn.node's GPU object for `dawnOptions` (the same object `Device.create({ dawnOptions })` used)
 * and waits until it is ready.
 *
 * @example
 * ```ts
 * const peer = await startTfjsPeer([]);
 * console.log(peer.adapterDescription); // "llvmpipe: Mesa 25.0.7 …"
 * ```
 */
export async function startTfjsPeer(dawnOptions: readonly string[]): Promise<TfjsPeer> {
  const gpu = await nodeGpu(dawnOptions);
  const global = globalThis as { navigator?: unknown };
  const hadNavigator = "navigator" in global;
  if (!hadNavigator) global.navigator = { gpu };
  try {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) throw new Error("tfjs could not initialise its webgpu backend");
    await tf.ready();
    const backend = tf.backend() as unknown as WebGpuBackendInternals;
    const info = (backend.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const adapterDescription = info ? info.description || `${info.vendor} ${info.architecture}` : "unknown";
    return { tf, gpu: backend.device, adapterDescription, sync: () => syncTfjs(backend), registerGradients };
  } finally {
    if (!hadNavigator) delete global.navigator;
  }
}

let hasGradients = false;

/**
 * tfjs-core's Node bundle (its package "main") leaves gradients out: the `@tensorflow/tfjs` union
 * package registers them from `dist/register_all_gradients.js`, an ES module file with
 * extensionless imports. Required here through tsx's CommonJS hook, which compiles it and the
 * dist/ files it imports; they are a second copy of tfjs-core's modules, but tfjs keeps its kernel
 * and gradient registries and its engine in a global namespace, so the gradients land in the
 * registry the bundle we imported reads.
 */
function registerGradients(): void {
  if (hasGradients) return;
  createRequire(import.meta.url)("@tensorflow/tfjs-core/dist/register_all_gradients");
  hasGradients = true;
}
