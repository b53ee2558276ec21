// The cases run against the second peer, onnxruntime-web's WebGPU EP (`npm run bench -- --peer=ort`).
// Names, shapes, seeds and tolerances are those of the tfjs cases, so the two tables line up. ORT
// gets each op as a one-node ONNX model; activations are graph inputs living in GPU buffers, and
// parameters (linear and conv weights and biases) are initializers, as in an exported model, so ORT
// may prepare them once at session creation, as tfjs gets its filters in HWIO beforehand.
import { softmax, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { BenchCase, BenchContext, CaseRun } from "../harness/bench_case.ts";
import { disposeInputs, type SharedInput, sharedInput } from "../harness/inputs.ts";
import { onnxModel, type OnnxGraph } from "../harness/onnx_model.ts";
import { type Conv2dFn, type LinearFn, type MatmulFn, missingReason, optionalOp } from "../harness/optional_ops.ts";
import type { OrtPeer } from "../harness/ort_peer_node.ts";
import { type OrtFeed, ortSide, type OrtSideOptions } from "../harness/ort_side.ts";
import { ourSide } from "../harness/ours_side.ts";
import { permute4 } from "./conv2d_cases.ts";

/** Builds our side and ORT's over the same inputs; `feeds` are the graph inputs ORT gets each run. */
async function ortPairedRun(
  context: BenchContext,
  inputs: readonly SharedInput[],
  ours: () => Tensor,
  graph: OnnxGraph,
  feeds: readonly OrtFeed[],
  options: OrtSideOptions = {},
): Promise<CaseRun> {
  const peer = ortOf(context);
  const session = await peer.createSession(onnxModel(graph));
  const side = ortSide(peer, session, feeds, options);
  return {
    ours: ourSide(context.device, () => tidy(ours)),
    peer: side,
    dispose() {
      disposeInputs(inputs);
      side.dispose();
    },
  };
}

function ortOf(context: BenchContext): OrtPeer {
  if (!context.ort) throw new Error("Cannot set up an ORT case: the ORT peer did not start");
  return context.ort;
}

/** y = a·b, a [M, K], b [K, N]: ONNX MatMul with both operands as graph inputs. */
function matmulCase(m: number, k: number, n: number): BenchCase {
  return {
    name: `matmul ${m}×${k}×${n}`,
    group: "matmul",
    flops: 2 * m * k * n,
    tolerance: { atol: 1e-3, rtol: 1e-3 },
    skipReason: () => missingReason("matmul"),
    setup(context) {
      const a = sharedInput(context.device, null, 51, [m, k]);
      const b = sharedInput(context.device, null, 52, [k, n]);
      const matmul = optionalOp<MatmulFn>("matmul");
      const graph: OnnxGraph = {
        nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
        inputs: [
          { name: "a", shape: [m, k] },
          { name: "b", shape: [k, n] },
        ],
        outputs: [{ name: "y", shape: [m, n] }],
      };
      const feeds = [
        { name: "a", values: a.host, shape: a.shape },
        { name: "b", values: b.host, shape: b.shape },
      ];
      return ortPairedRun(context, [a, b], () => matmul(a.ours, b.ours), graph, feeds);
    },
  };
}

/** y = x·wᵀ + bias, w [out, in]: ONNX Gemm with transB = 1, what torch.onnx exports for nn.Linear. */
function linearCase(m: number, k: number, n: number): BenchCase {
  return {
    name: `linear ${m}×${k}×${n} +bias`,
    group: "matmul",
    flops: 2 * m * k * n,
    tolerance: { atol: 1e-3, rtol: 1e-3 },
    skipReason: () => missingReason("linear"),
    setup(context) {
      const x = sharedInput(context.device, null, 53, [m, k]);
      const w = sharedInput(context.device, null, 54, [n, k], { low: -0.1, high: 0.1 });
      const bias = sharedInput(context.device, null, 55, [n]);
      const linear = optionalOp<LinearFn>("linear");
      const graph: OnnxGraph = {
        nodes: [{ opType: "Gemm", inputs: ["x", "w", "bias"], outputs: ["y"], attributes: { transB: 1 } }],
        inputs: [{ name: "x", shape: [m, k] }],
        outputs: [{ name: "y", shape: [m, n] }],
        initializers: [
          { name: "w", shape: w.shape, values: w.host },
          { name: "bias", shape: bias.shape, values: bias.host },
        ],
      };
      const feeds = [{ name: "x", values: x.host, shape: x.shape }];
      return ortPairedRun(context, [x, w, bias], () => linear(x.ours, w.ours, bias.ours), graph, feeds);
    },
  };
}

/**
 * 3×3 convolution, stride 1, padding 1, with bias. ORT's WebGPU EP prefers NHWC: it rewrites an
 * ONNX (NCHW) Conv into its NHWC kernel between two Transposes. The model therefore takes and
 * returns NHWC, Transpose → Conv → Transpose, and ORT's transpose optimizer cancels each pair,
 * leaving the NHWC conv alone (the tfjs case likewise gives tfjs NHWC, its native layout).
 */
function conv2dCase(size: number, channels: number): BenchCase {
  const [h, w, c] = [size, size, channels];
  return {
    name: `conv2d 3×3 ${h}×${w}×${c}→${c}`,
    group: "conv2d",
    flops: 2 * h * w * c * c * 9,
    tolerance: { atol: 1e-4, rtol: 1e-3 },
    skipReason: () => missingReason("conv2d"),
    setup(context) {
      const xShape = [1, c, h, w];
      const x = sharedInput(context.device, null, 61, xShape);
      const weight = sharedInput(context.device, null, 62, [c, c, 3, 3], { low: -0.05, high: 0.05 });
      const bias = sharedInput(context.device, null, 63, [c]);
      const conv2d = optionalOp<Conv2dFn>("conv2d");
      const graph: OnnxGraph = {
        nodes: [
          { opType: "Transpose", inputs: ["x_nhwc"], outputs: ["x"], attributes: { perm: [0, 3, 1, 2] } },
          { opType: "Conv", inputs: ["x", "weight", "bias"], outputs: ["y"], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { opType: "Transpose", inputs: ["y"], outputs: ["y_nhwc"], attributes: { perm: [0, 2, 3, 1] } },
        ],
        inputs: [{ name: "x_nhwc", shape: [1, h, w, c] }],
        outputs: [{ name: "y_nhwc", shape: [1, h, w, c] }],
        initializers: [
          { name: "weight", shape: weight.shape, values: weight.host },
          { name: "bias", shape: bias.shape, values: bias.host },
        ],
      };
      const feeds = [{ name: "x_nhwc", values: permute4(x.host, xShape, [0, 2, 3, 1]), shape: [1, h, w, c] }];
      return ortPairedRun(context, [x, weight, bias], () => conv2d(x.ours, weight.ours, bias.ours, { padding: 1 }), graph, feeds, {
        toOurs: (data) => permute4(data, [1, h, w, c], [0, 3, 1, 2]),
      });
    },
  };
}

/** Row softmax over attention-score-sized rows: ONNX Softmax (opset 13+: over the last axis only). */
function softmaxCase(rows: number, columns: number): BenchCase {
  return {
    name: "softmax [8·1024, 1024]",
    group: "softmax",
    bytes: 2 * rows * columns * 4,
    tolerance: { atol: 1e-6, rtol: 1e-4 },
    setup(context) {
      const x = sharedInput(context.device, null, 21, [rows, columns], { low: -8, high: 8 });
      const graph: OnnxGraph = {
        nodes: [{ opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: { axis: -1 } }],
        inputs: [{ name: "x", shape: x.shape }],
        outputs: [{ name: "y", shape: x.shape }],
      };
      const feeds = [{ name: "x", values: x.host, shape: x.shape }];
      return ortPairedRun(context, [x], () => softmax(x.ours, -1), graph, feeds);
    },
  };
}

/** The cases of `--peer=ort`: the same work as the tfjs cases of the same names. */
export const ortCases: BenchCase[] = [
  matmulCase(4096, 320, 320),
  linearCase(4096, 320, 1280),
  conv2dCase(64, 320),
  softmaxCase(8 * 1024, 1024),
];
