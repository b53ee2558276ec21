import { softmax } from "@spo/wgpu-tensor";
import type { BenchCase } from "../harness/bench_case.ts";
import { peerOf, sharedInput } from "../harness/inputs.ts";
import { pairedRun } from "../harness/paired_run.ts";

const SHAPE = [8 * 1024, 1024]; // 8 heads of a 1024-token self-attention score matrix, batch 1

/** Row softmax over attention-score-sized rows. */
export const softmaxCases: BenchCase[] = [
  {
    name: "softmax [8·1024, 1024]",
    group: "softmax",
    bytes: 2 * SHAPE[0] * SHAPE[1] * 4,
    tolerance: { atol: 1e-6, rtol: 1e-4 },
    setup(context) {
      const x = sharedInput(context.device, context.peer, 21, SHAPE, { low: -8, high: 8 });
      return pairedRun(
        context,
        [x],
        () => softmax(x.ours, -1),
        (tf) => tf.softmax(peerOf(x)),
      );
    },
  },
];
