/**
 * Node-only additions to `@spo/wgpu-tensor`: loading a pretrained component from a model folder
 * (what the model packages' folder loaders are built on), and dawn.node's `GPU` object (npm
 * `webgpu`, installed beside this package) for tools that drive Dawn directly, such as benchmark
 * peers. `Device.create()` loads Dawn by itself in Node.
 * @module
 */
export { nodeGpu } from "./device/gpu_node.ts";
export {
  type ClosableWeights,
  type LoadedComponent,
  loadPretrainedComponent,
  type PretrainedComponent,
} from "./nn/pretrained_node.ts";
