import { add, mul, silu } from "@spo/wgpu-tensor";
import type { BenchCase } from "../harness/bench_case.ts";
import { peerOf, sharedInput } from "../harness/inputs.ts";
import { pairedRun } from "../harness/paired_run.ts";

const LATENT = [2, 320, 64, 64]; // SD1.5's first UNet level at 512×512, batch 2 (classifier-free guidance)
const SIZE = LATENT.reduce((a, b) => a * b, 1);

/**
 * Elementwise chains from the UNet's ResNet blocks, one op per library call on both sides (no
 * fusion): memory-bound, so the throughput column is GB/s over the bytes the chain must move at
 * least (inputs read once, the answer written once).
 */
export const elementwiseCases: BenchCase[] = [
  {
    name: "a + b 2×320×64×64",
    group: "elementwise",
    bytes: 3 * SIZE * 4,
    setup(context) {
      const [a, b] = [6, 7].map((seed) => sharedInput(context.device, context.peer, seed, LATENT));
      return pairedRun(
        context,
        [a, b],
        () => add(a.ours, b.ours),
        (tf) => tf.add(peerOf(a), peerOf(b)),
      );
    },
  },
  {
    name: "silu(a·b + c) 2×320×64×64",
    group: "elementwise",
    bytes: 4 * SIZE * 4,
    setup(context) {
      const [a, b, c] = [1, 2, 3].map((seed) => sharedInput(context.device, context.peer, seed, LATENT));
      return pairedRun(
        context,
        [a, b, c],
        () => silu(add(mul(a.ours, b.ours), c.ours)),
        (tf) => {
          // tfjs-core has no silu: x·sigmoid(x)
          const t = tf.add(tf.mul(peerOf(a), peerOf(b)), peerOf(c));
          return tf.mul(t, tf.sigmoid(t));
        },
      );
    },
  },
  {
    name: "x + temb[:, :, None, None] 2×320×64×64",
    group: "elementwise",
    bytes: (2 * SIZE + 2 * 320) * 4,
    setup(context) {
      const x = sharedInput(context.device, context.peer, 4, LATENT);
      const temb = sharedInput(context.device, context.peer, 5, [2, 320, 1, 1]);
      return pairedRun(
        context,
        [x, temb],
        () => add(x.ours, temb.ours),
        (tf) => tf.add(peerOf(x), peerOf(temb)),
      );
    },
  },
];
