import type { Device, Tensor } from "@spo/wgpu-tensor";
import type { Side } from "./bench_case.ts";

/**
 * Our side of a case: `run` calls library ops and returns the answer tensor. Intermediate tensors
 * are disposed by the caller's code or, when `run` builds a chain, freed by `tidy` inside it.
 *
 * @example
 * ```ts
 * const side = ourSide(device, () => softmax(x));
 * ```
 */
export function ourSide(device: Device, run: () => Tensor): Side<Tensor> {
  return {
    label: "ours",
    gpu: device.gpu,
    run,
    sync: () => device.sync(),
    async read(result) {
      return Float32Array.from((await result.toArray()) as ArrayLike<number>);
    },
    release: (result) => result.dispose(),
  };
}
