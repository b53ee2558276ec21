import { backward, type LayerOptions, mul, sum, type Tensor } from "@spo/wgpu-tensor";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { BenchCase, BenchContext } from "../harness/bench_case.ts";
import { disposeInputs, peerOf, type SharedInput, sharedInput } from "../harness/inputs.ts";
import { missingReason, optionalOp } from "../harness/optional_ops.ts";
import { ourSide } from "../harness/ours_side.ts";
import { type Tf, type TfjsPeer, tfjsSide } from "../harness/tfjs_side.ts";
import { permute4 } from "./conv2d_cases.ts";

/** What the case uses of diffusion-unet's ResnetBlock2D (diffusers' names and layout). */
interface ResnetBlock {
  forward(x: Tensor, temb: Tensor): Tensor;
  namedParameters(): Iterable<[string, Tensor]>;
}
type ResnetBlockClass = new (
  inChannels: number,
  outChannels: number,
  options: LayerOptions & { temb: number; groups: number; eps: number },
) => ResnetBlock;

const [CHANNELS, TEMB, GROUPS, EPS] = [320, 1280, 32, 1e-5];

/** The block's parameters as tfjs tensors: convolutions in HWIO, everything else as is. */
async function peerParameters(tf: Tf, block: ResnetBlock): Promise<Map<string, TfCore.Variable>> {
  const out = new Map<string, TfCore.Variable>();
  for (const [name, value] of block.namedParameters()) {
    const data = Float32Array.from((await value.toArray()) as Float32Array);
    const isConvWeight = value.ndim === 4;
    const tensor = isConvWeight
      ? tf.tensor(permute4(data, value.shape, [2, 3, 1, 0]), [value.shape[2], value.shape[3], value.shape[1], value.shape[0]])
      : tf.tensor(data, [...value.shape]);
    out.set(name, tf.variable(tensor, true, `unet_${name}`));
    tensor.dispose();
  }
  return out;
}

/** diffusers' ResnetBlock2D forward in tfjs (NHWC), GroupNorm composed as a tfjs user would. */
function peerResnet(tf: Tf, p: Map<string, TfCore.Tensor>, x: TfCore.Tensor, temb: TfCore.Tensor): TfCore.Tensor {
  const [, size] = x.shape;
  const nhwc = [1, size, size, CHANNELS];
  const get = (name: string) => p.get(name)!;
  const silu = (t: TfCore.Tensor) => tf.mul(t, tf.sigmoid(t));
  const groupNorm = (t: TfCore.Tensor, prefix: string) => {
    const grouped = tf.reshape(t, [1, size, size, GROUPS, CHANNELS / GROUPS]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalised = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, EPS))), nhwc);
    return tf.add(tf.mul(normalised, get(`${prefix}.weight`)), get(`${prefix}.bias`));
  };
  const conv = (t: TfCore.Tensor, prefix: string) =>
    tf.fused.conv2d({
      x: t as TfCore.Tensor4D,
      filter: get(`${prefix}.weight`) as TfCore.Tensor4D,
      strides: 1,
      pad: "same",
      bias: get(`${prefix}.bias`),
    });
  let h = conv(silu(groupNorm(x, "norm1")), "conv1");
  const time = tf.fused.matMul({
    a: silu(temb) as TfCore.Tensor2D,
    b: get("time_emb_proj.weight") as TfCore.Tensor2D,
    transposeB: true,
    bias: get("time_emb_proj.bias"),
  });
  h = tf.add(h, tf.reshape(time, [1, 1, 1, CHANNELS]));
  h = conv(silu(groupNorm(h, "norm2")), "conv2");
  return tf.add(x, h);
}

/** dx of Σ(block(x)·g) on the peer, every parameter gradient computed too (as ours does). */
function peerForwardBackward(
  peer: TfjsPeer,
  params: Map<string, TfCore.Variable>,
  x: SharedInput,
  temb: SharedInput,
  g: SharedInput,
): TfCore.Tensor {
  const { tf } = peer;
  const names = [...params.keys()];
  const loss = (xIn: TfCore.Tensor, ...weights: TfCore.Tensor[]) => {
    const bound = new Map(names.map((name, i) => [name, weights[i]]));
    return tf.sum(tf.mul(peerResnet(tf, bound, xIn, peerOf(temb)), peerOf(g)));
  };
  const grads = tf.grads(loss)([peerOf(x), ...names.map((name) => params.get(name)!)]);
  return grads[0];
}

/**
 * One diffusers ResnetBlock2D(320 → 320) forward and backward, as a training step runs it:
 * GroupNorm+SiLU, conv 3×3, time-embedding projection, GroupNorm+SiLU, conv 3×3, residual; the
 * loss Σ(y·g) for a fixed random g, gradients for the input and every parameter. Batch 1, at a
 * fraction of the pixels of SD's first level (64×64), stated in the name. GFLOP/s counts the
 * convolutions only: 2 forward, and input and weight gradients of each (6 × 2·H·W·C²·9).
 */
function resnetBlockCase(size: number, scale: string, isHeavy: boolean): BenchCase {
  const xShape = [1, CHANNELS, size, size];
  const nhwc = [1, size, size, CHANNELS];
  return {
    name: `ResnetBlock2D(320) fwd+bwd ${size}×${size} (${scale} of 64×64)`,
    group: "unet",
    isHeavy,
    flops: 6 * 2 * size * size * CHANNELS * CHANNELS * 9,
    tolerance: { atol: 1e-3, rtol: 2e-3 },
    skipReason: () => missingReason("ResnetBlock2D"),
    async setup(context: BenchContext) {
      const Block = optionalOp<ResnetBlockClass>("ResnetBlock2D");
      const block = new Block(CHANNELS, CHANNELS, { temb: TEMB, groups: GROUPS, eps: EPS, device: context.device, seed: 71 });
      const toPeer = { shape: nhwc, rearrange: (data: Float32Array) => permute4(data, xShape, [0, 2, 3, 1]) };
      const x = sharedInput(context.device, context.peer, 72, xShape, { peerLayout: toPeer });
      const temb = sharedInput(context.device, context.peer, 73, [1, TEMB]);
      const g = sharedInput(context.device, context.peer, 74, xShape, { peerLayout: toPeer });
      x.ours.requiresGrad = true;
      const parameters = [...block.namedParameters()].map(([, value]) => value);
      const peer = context.peer;
      peer?.registerGradients();
      const peerParams = peer ? await peerParameters(peer.tf, block) : null;
      const ours = ourSide(context.device, () => {
        for (const t of [x.ours, ...parameters]) {
          t.grad?.dispose();
          t.grad = null;
        }
        const y = block.forward(x.ours, temb.ours);
        const loss = sum(mul(y, g.ours));
        backward(loss);
        [y, loss].forEach((t) => t.dispose());
        const dx = x.ours.grad!;
        x.ours.grad = null;
        return dx;
      });
      return {
        ours,
        peer:
          peer && peerParams
            ? tfjsSide(peer, () => peerForwardBackward(peer, peerParams, x, temb, g), {
                toOurs: (data) => permute4(data, nhwc, [0, 3, 1, 2]),
              })
            : null,
        dispose() {
          disposeInputs([x, temb, g]);
          for (const t of parameters) t.grad?.dispose();
          parameters.forEach((t) => t.dispose());
          peerParams?.forEach((v) => v.dispose());
        },
      };
    },
  };
}

/**
 * The UNet's ResNet block at 16×16 by default; at 32×32 with --full (one run took 5.8 s for ours
 * and 27 s for the peer at load ~15 on the 2-core adapter, 97% of ours in the three conv kernels:
 * `npm run bench -- --full --profile unet`).
 */
export const unetBlockCases: BenchCase[] = [resnetBlockCase(16, "1/16", false), resnetBlockCase(32, "¼", true)];
