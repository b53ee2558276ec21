/**
 * Node-only additions to `@spo/wgpu-tensor`: dawn.node's `GPU` object (npm `webgpu`, installed
 * beside this package), for tools that drive Dawn directly, such as benchmark peers. `Device.create()`
 * loads Dawn by itself in Node; most programs never import this entry.
 * @module
 */
export { nodeGpu } from "./device/gpu_node.ts";
