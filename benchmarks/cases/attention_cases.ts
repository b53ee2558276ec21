import { scaledDotProductAttention } from "@spo/wgpu-tensor";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { BenchCase, BenchContext, CheckReport } from "../harness/bench_case.ts";
import { compareValues } from "../harness/compare.ts";
import { peerOf, type SharedInput, sharedInput } from "../harness/inputs.ts";
import { pairedRun } from "../harness/paired_run.ts";
import type { Tf } from "../harness/tfjs_side.ts";

interface AttentionShape {
  batch: number;
  heads: number;
  queries: number;
  keys: number;
  headSize: number;
}

const TOLERANCE = { atol: 2e-5, rtol: 1e-3 };
/** Query rows checked against a float64 reference when the peer cannot run the case. */
const CHECKED_ROWS = 48;

/** softmax(Q·Kᵀ/√D)·V composed from tfjs ops over [B·H, L, D] batches: the score matrix is materialised. */
function peerAttention(tf: Tf, q: SharedInput, k: SharedInput, v: SharedInput, shape: AttentionShape): TfCore.Tensor {
  const { batch, heads, queries, keys, headSize } = shape;
  const flat = (input: SharedInput, length: number) => tf.reshape(peerOf(input), [batch * heads, length, headSize]);
  const scores = tf.mul(tf.matMul(flat(q, queries), flat(k, keys), false, true), 1 / Math.sqrt(headSize));
  const out = tf.matMul(tf.softmax(scores), flat(v, keys));
  return tf.reshape(out, [batch, heads, queries, headSize]);
}

/** Bytes of the peer's [B·H, Lq, Lk] f32 score matrix. */
function scoreBytes(shape: AttentionShape): number {
  return shape.batch * shape.heads * shape.queries * shape.keys * 4;
}

/**
 * Checks sampled rows of our output against attention computed in float64 on the host, for the
 * cases the peer cannot run.
 */
async function checkRows(
  ourOutput: () => Promise<Float32Array>,
  q: SharedInput,
  k: SharedInput,
  v: SharedInput,
  shape: AttentionShape,
): Promise<CheckReport> {
  const { batch, heads, queries, keys, headSize } = shape;
  const out = await ourOutput();
  const ours = new Float32Array(CHECKED_ROWS * headSize);
  const expected = new Float32Array(CHECKED_ROWS * headSize);
  const scale = 1 / Math.sqrt(headSize);
  const scores = new Float64Array(keys);
  for (let r = 0; r < CHECKED_ROWS; r++) {
    const bh = (r * 7919) % (batch * heads); // spread over batches, heads and positions, first and last row included
    const row = r === 0 ? 0 : r === CHECKED_ROWS - 1 ? queries - 1 : (r * 104729) % queries;
    const qBase = (bh * queries + row) * headSize;
    let max = -Infinity;
    for (let j = 0; j < keys; j++) {
      let dot = 0;
      const kBase = (bh * keys + j) * headSize;
      for (let d = 0; d < headSize; d++) dot += q.host[qBase + d] * k.host[kBase + d];
      scores[j] = dot * scale;
      max = Math.max(max, scores[j]);
    }
    let total = 0;
    for (let j = 0; j < keys; j++) total += scores[j] = Math.exp(scores[j] - max);
    for (let d = 0; d < headSize; d++) {
      let acc = 0;
      for (let j = 0; j < keys; j++) acc += scores[j] * v.host[(bh * keys + j) * headSize + d];
      expected[r * headSize + d] = acc / total;
      ours[r * headSize + d] = out[qBase + d];
    }
  }
  const report = compareValues(ours, expected, TOLERANCE);
  return { ...report, detail: `${CHECKED_ROWS} rows vs a float64 host reference: ${report.detail}` };
}

/** Why the peer cannot run a shape: its score matrix exceeds what one binding may hold. */
function peerLimit(shape: AttentionShape, context: BenchContext): string | null {
  const limit = context.peer?.gpu.limits.maxStorageBufferBindingSize ?? Infinity;
  const bytes = scoreBytes(shape);
  if (bytes <= limit) return null;
  return (
    `needs a ${bytes / 2 ** 20} MiB [B·H, L, L] f32 score matrix, above the ${limit / 2 ** 20} MiB ` +
    "maxStorageBufferBindingSize of this adapter (tfjs binds whole buffers; tried: Dawn rejects the bind group and tfjs returns zeros)"
  );
}

function attentionCase(shape: AttentionShape, label: string, isHeavy = false): BenchCase {
  const { batch, heads, queries, keys, headSize } = shape;
  const kind = keys === queries ? "self" : `cross ${keys} keys`;
  return {
    name: `attention ${kind} B${batch} H${heads} L${queries} D${headSize}${label}`,
    group: "attention",
    flops: 4 * batch * heads * queries * keys * headSize, // Q·Kᵀ and P·V
    peerUnavailable: (context) => peerLimit(shape, context),
    isHeavy,
    tolerance: TOLERANCE,
    setup(context: BenchContext) {
      const withoutPeer = context.peer === null || peerLimit(shape, context) !== null;
      const make = (seed: number, length: number) =>
        sharedInput(context.device, context.peer, seed, [batch, heads, length, headSize], { withoutPeer });
      const [q, k, v] = [make(31, queries), make(32, keys), make(33, keys)];
      const ours = () => scaledDotProductAttention(q.ours, k.ours, v.ours);
      const peer = withoutPeer ? null : (tf: Tf) => peerAttention(tf, q, k, v, shape);
      const check = withoutPeer
        ? () =>
            checkRows(
              async () => {
                const out = ours();
                try {
                  return Float32Array.from((await out.toArray()) as Float32Array);
                } finally {
                  out.dispose();
                }
              },
              q,
              k,
              v,
              shape,
            )
        : undefined;
      return pairedRun(context, [q, k, v], ours, peer, { check });
    },
  };
}

/**
 * Attention at SD1.5's transformer shapes: 4096 tokens with head size 40 (64×64 latents, 320
 * channels), 1024 tokens with head size 80 (32×32, 640 channels), self and cross (77 text tokens).
 * Self-attention runs at batch 1 (half of SD's batch 2 with classifier-free guidance, for the CPU
 * adapter); the full 4096-token batch-2 case (a 1 GiB score matrix for the peer) runs with --full.
 */
export const attentionCases: BenchCase[] = [
  attentionCase({ batch: 1, heads: 8, queries: 1024, keys: 1024, headSize: 40 }, " (batch ½)"),
  attentionCase({ batch: 1, heads: 8, queries: 1024, keys: 1024, headSize: 80 }, " (batch ½)"),
  attentionCase({ batch: 2, heads: 8, queries: 1024, keys: 77, headSize: 80 }, ""),
  attentionCase({ batch: 2, heads: 8, queries: 4096, keys: 77, headSize: 40 }, ""),
  attentionCase({ batch: 1, heads: 8, queries: 4096, keys: 4096, headSize: 40 }, " (batch ½)"),
  attentionCase({ batch: 2, heads: 8, queries: 4096, keys: 4096, headSize: 40 }, "", true),
];
