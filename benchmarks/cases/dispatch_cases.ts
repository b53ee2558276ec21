import { neg, type Tensor } from "@spo/wgpu-tensor";
import type { BenchCase, BenchContext, CaseRun } from "../harness/bench_case.ts";
import { peerOf, sharedInput } from "../harness/inputs.ts";
import { ourSide } from "../harness/ours_side.ts";
import { tfjsSide } from "../harness/tfjs_side.ts";
import { rawDawnChain } from "./raw_dawn_chain.ts";

const OPS = 100;
// 1024 values: above tfjs-backend-webgpu's CPU hand-off threshold (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD,
// 1000), so the peer dispatches every op on the GPU too.
const SHAPE = [1024];

function chain(x: Tensor): Tensor {
  let y = x;
  for (let i = 0; i < OPS; i++) {
    const next = neg(y);
    if (y !== x) y.dispose();
    y = next;
  }
  return y;
}

function dispatchCase(against: "raw Dawn" | "tfjs-webgpu"): BenchCase {
  return {
    name: `dispatch: ${OPS} × neg [1024] vs ${against}`,
    group: "dispatch",
    opsPerRun: OPS,
    // host cost is the point: wall-clock from the first op recorded to the GPU being done
    timing: "wall",
    maxReps: 30,
    tolerance: { atol: 0, rtol: 0 },
    setup(context: BenchContext): CaseRun {
      const x = sharedInput(context.device, against === "tfjs-webgpu" ? context.peer : null, 41, SHAPE);
      const raw = against === "raw Dawn" ? rawDawnChain(context.device, x.ours, "neg", OPS) : null;
      const tfjs = context.peer;
      const peer =
        raw ??
        (tfjs
          ? tfjsSide(tfjs, () => {
              let y = peerOf(x);
              for (let i = 0; i < OPS; i++) y = tfjs.tf.neg(y);
              return y;
            })
          : null);
      return {
        ours: ourSide(context.device, () => chain(x.ours)),
        peer,
        dispose() {
          raw?.dispose();
          x.ours.dispose();
          x.peer?.dispose();
        },
      };
    },
  };
}

/**
 * Dispatch overhead: a chain of 100 tiny ops, reported as µs per op, against the same kernel
 * dispatched raw through Dawn (the floor for our design) and against tfjs-backend-webgpu.
 */
export const dispatchCases: BenchCase[] = [dispatchCase("raw Dawn"), dispatchCase("tfjs-webgpu")];
