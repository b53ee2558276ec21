/**
 * Timings of the reduction, softmax and normalisation kernels at Stable Diffusion sizes, with
 * Dawn's robustness on (the default) and off. Each line is the best of several rounds of five
 * back-to-back dispatches, reading back 4 bytes, so readback of large outputs is not counted.
 *
 * Run: `node --import tsx packages/wgpu-tensor/ops/norm/norm_bench.ts`
 * @module
 */
import { Device } from "../../device/device.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { fromHost, randomHost } from "../../testing/mod.ts";
import { sum } from "../reduce/reduce_ops.ts";
import { kernelContext, runOp, runProgram } from "../run_op.ts";
import { softmax } from "../softmax/softmax.ts";
import { groupNorm } from "./group_norm.ts";
import { layerNorm } from "./layer_norm.ts";
import { normInputGradOp, normStatsOp, normWeightGradOp } from "./norm_backward.ts";
import { normForwardProgram } from "./norm_kernel.ts";
import { groupNormLayout } from "./norm_layout.ts";

const REPEATS = 5;
const ROUNDS = 8;

async function time(device: Device, label: string, elements: number, fn: () => Tensor): Promise<void> {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const warm = fn();
    await device.queue.read(warm.buffer, 0, 4);
    warm.dispose();
    const start = performance.now();
    const outputs = Array.from({ length: REPEATS }, fn);
    await device.queue.read(outputs[REPEATS - 1].buffer, 0, 4);
    best = Math.min(best, (performance.now() - start) / REPEATS);
    outputs.forEach((t) => t.dispose());
  }
  console.log(`  ${label}: ${best.toFixed(2)} ms (${(elements / best / 1e3).toFixed(0)} M elements/s)`);
}

async function benchGroupNorm(device: Device): Promise<void> {
  const shape = [2, 320, 64, 64];
  const size = shape.reduce((a, b) => a * b, 1);
  const x = fromHost(randomHost(shape, 1), device);
  const weight = fromHost(randomHost([320], 2), device);
  const bias = fromHost(randomHost([320], 3), device);
  const dy = fromHost(randomHost(shape, 4), device);
  const layout = groupNormLayout(shape, 32);
  const stats = runOp(normStatsOp, [x], { layout, eps: 1e-5 });
  for (const splits of [1, undefined]) {
    const label = splits === 1 ? "one invocation per group" : "statistics split across invocations";
    await time(device, `groupNorm(32) [2, 320, 64, 64] forward, ${label}`, size, () => groupNormWithSplits(device, x, weight, bias, splits));
  }
  await time(device, "groupNorm(32) + fused SiLU", size, () => groupNorm(x, 32, weight, bias, { activation: "silu" }));
  await time(device, "groupNorm statistics only", size, () => runOp(normStatsOp, [x], { layout, eps: 1e-5 }));
  await time(device, "groupNorm backward dx", size, () => runOp(normInputGradOp, [x, dy, stats, weight], { layout, eps: 1e-5, hasWeight: true }));
  await time(device, "groupNorm backward dweight", size, () => runOp(normWeightGradOp, [x, dy, stats], { layout, eps: 1e-5 }));
  const channelView = dy.view(2, 320, 4096);
  await time(device, "groupNorm backward dbias (sum over N, HW)", size, () => sum(channelView, [0, 2]));
  [x, weight, bias, dy, stats, channelView].forEach((t) => t.dispose());
}

/** The groupNorm forward program with a chosen number of statistics chunks per group. */
function groupNormWithSplits(device: Device, x: Tensor, weight: Tensor, bias: Tensor, splits: number | undefined): Tensor {
  const layout = groupNormLayout(x.shape, 32);
  const spec = { name: "groupNorm", dtype: x.dtype, layout, eps: 1e-5, hasWeight: true, hasBias: true, activation: "none" as const, splits };
  const output = Tensor.empty(x.shape, x.dtype, device);
  runProgram(device, normForwardProgram(spec, kernelContext(device)), [x.buffer, weight.buffer, bias.buffer], output.buffer);
  return output;
}

async function benchOthers(device: Device): Promise<void> {
  const hidden = fromHost(randomHost([2 * 77, 768], 5), device);
  await time(device, "layerNorm [154, 768]", hidden.size, () => layerNorm(hidden, 768));
  const scores = fromHost(randomHost([16, 1024, 77], 6), device);
  await time(device, "softmax [16, 1024, 77] over the last axis", scores.size, () => softmax(scores));
  const square = fromHost(randomHost([1024, 1024], 7), device);
  await time(device, "sum of all of [1024, 1024]", square.size, () => sum(square));
  await time(device, "sum over the last axis of [1024, 1024]", square.size, () => sum(square, -1));
  await time(device, "sum over the first axis of [1024, 1024]", square.size, () => sum(square, 0));
  [hidden, scores, square].forEach((t) => t.dispose());
}

for (const disableRobustness of [false, true]) {
  const device = await Device.create({ disableRobustness });
  Device.setDefault(device);
  console.log(`${device.adapter.description}, robustness ${disableRobustness ? "off" : "on"}:`);
  await benchGroupNorm(device);
  await benchOthers(device);
  device.destroy();
}
