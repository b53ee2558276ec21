import { type Tensor, tidy } from "@spo/wgpu-tensor";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { BenchContext, CaseRun, CheckReport } from "./bench_case.ts";
import { disposeInputs, type SharedInput } from "./inputs.ts";
import { ourSide } from "./ours_side.ts";
import { type Tf, tfjsSide, type TfjsSideOptions } from "./tfjs_side.ts";

export interface PairedRunOptions extends TfjsSideOptions {
  /** Overrides the default ours-vs-peer comparison (needed when `peer` is null). */
  check?: () => Promise<CheckReport>;
  /** More things to free with the inputs. */
  dispose?: () => void;
}

/**
 * The usual case: our ops and the peer's composed tfjs ops over shared inputs. Both functions run
 * inside a scope (`tidy` / `tf.tidy`), so intermediates are freed and only the answer is kept.
 *
 * @example
 * ```ts
 * return pairedRun(context, [x], () => softmax(x.ours), (tf) => tf.softmax(peerOf(x)));
 * ```
 */
export function pairedRun(
  context: BenchContext,
  inputs: readonly SharedInput[],
  ours: () => Tensor,
  peer: ((tf: Tf) => TfCore.Tensor) | null,
  options: PairedRunOptions = {},
): CaseRun {
  const tfjs = context.peer;
  return {
    ours: ourSide(context.device, () => tidy(ours)),
    peer: peer && tfjs ? tfjsSide(tfjs, () => peer(tfjs.tf), options) : null,
    check: options.check,
    dispose() {
      disposeInputs(inputs);
      options.dispose?.();
    },
  };
}
