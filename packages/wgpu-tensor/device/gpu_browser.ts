// What the package's `#gpu` import resolves to outside Node (browsers, workers, bundles): the same
// function as gpu_node.ts, without Dawn. device.ts asks navigator.gpu first, so this only answers
// a non-Node runtime that has no WebGPU.
import { NoAdapterError } from "./errors.ts";

/** Outside Node there is no Dawn to load: throws a NoAdapterError. */
export function nodeGpu(_dawnOptions: readonly string[]): Promise<GPU> {
  return Promise.reject(
    new NoAdapterError("Cannot create a WebGPU device: this runtime has no navigator.gpu and is not Node (no Dawn to load)"),
  );
}
