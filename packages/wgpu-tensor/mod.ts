/**
 * WebGPU tensors for browsers and Node: eager ops recorded into batched command buffers, pooled
 * memory, WGSL kernels tested against plain-JS references, autograd, nn modules and optimizers.
 *
 * @example
 * ```ts
 * import { Device, tensor, add, mul } from "@spo/wgpu-tensor";
 * const device = await Device.create();
 * const y = add(mul(tensor([1, 2, 3]), 2), 1);
 * console.log(await y.toArray()); // Float32Array [3, 5, 7]
 * device.destroy();
 * ```
 * @module
 */
export { Device, type AdapterFacts, type DeviceOptions } from "./device/device.ts";
export { DeviceDestroyedError, DeviceLostError, GpuError, KernelCompileError, NoAdapterError } from "./device/errors.ts";
export type { MemoryStats } from "./memory/buffer_pool.ts";
export { keep, tidy } from "./memory/scope.ts";
export { Tensor, type GradNode } from "./tensor/tensor.ts";
export { type DType, f16BitsToF32, f32ToF16Bits } from "./tensor/dtype.ts";
export { float32ToHalfBits, halfBitsToFloat32 } from "./tensor/half.ts";
export { DeviceMismatchError, DisposedError, DTypeError, NonFiniteError, ShapeError } from "./tensor/errors.ts";
export { BindingSizeError, checkBindingSizes } from "./ops/binding_limit.ts";
export { type HostTensor, hostTensor } from "./tensor/host_tensor.ts";
export type { KernelContext, KernelPlan, KernelProgram, OpDef, TensorSpec } from "./ops/op_def.ts";
export type { Shape } from "./tensor/shape.ts";
export { kernelContext, runOp, runProgram } from "./ops/run_op.ts";
export { arange, type CreateOptions, full, ones, onesLike, scalar, tensor, zeros, zerosLike } from "./ops/creation/creation.ts";
export * from "./ops/elementwise/elementwise_ops.ts";
export { isGradEnabled, noGrad, withGrad } from "./autograd/grad_mode.ts";
export { checkpoint } from "./autograd/checkpoint.ts";
export {
  argmax,
  argmin,
  type Axes,
  max,
  mean,
  min,
  type ReduceOptions,
  sum,
  var_,
  variance,
  type VarianceOptions,
} from "./ops/reduce/reduce_ops.ts";
export { broadcastTo, sumToShape } from "./ops/reduce/sum_to_shape.ts";
export { logSoftmax, softmax } from "./ops/softmax/softmax.ts";
export { flatten, reshape, squeeze, unsqueeze } from "./ops/movement/reshape.ts";
export { permute, transpose } from "./ops/movement/permute.ts";
export { narrow, slice, sliceAxes, type SliceSpec } from "./ops/movement/slice.ts";
export { concat, stack } from "./ops/movement/concat.ts";
export { pad } from "./ops/movement/pad.ts";
export { embedding } from "./ops/movement/embedding.ts";
export { rand, randn, randomBits, type RandomOptions } from "./ops/random/random.ts";
export { RandomGenerator } from "./ops/random/random_generator.ts";
export { backward, type BackwardOptions, detach, releaseGraph } from "./autograd/backward.ts";
export { loadTensorInto, Module, type LoadReport, StateDictError, type StateValue } from "./nn/module.ts";
export type { InitMode, InitStream, LayerOptions } from "./nn/init.ts";
export {
  dtypeFor,
  type ModelDType,
  PRECISION_RULES,
  type PrecisionNotice,
  type PrecisionRule,
  type PrecisionRuleName,
  resolveModelDType,
  toDType,
} from "./nn/precision.ts";
export { Optimizer, type OptimizerState } from "./optim/optimizer.ts";
export { AdamW, type AdamWOptions } from "./optim/adamw.ts";
export { SGD, type SGDOptions } from "./optim/sgd.ts";
export { constantSchedule, cosineSchedule, linearSchedule, type LrSchedule, LrScheduler } from "./optim/lr_schedule.ts";
export type { GeneratorOptions, GeneratorState } from "./ops/random/random_generator.ts";
export { groupNorm, type NormOptions } from "./ops/norm/group_norm.ts";
export { layerNorm } from "./ops/norm/layer_norm.ts";
export { interpolate, upsampleNearest } from "./ops/resize/interpolate.ts";
export { cast } from "./ops/cast/cast.ts";
export type { InterpolateOptions, ResizeMode } from "./ops/resize/resize_options.ts";
export { padInto, type PadIntoAttrs } from "./ops/movement/pad_into.ts";
export { embeddingGrad, type EmbeddingAttrs } from "./ops/movement/embedding.ts";
export { resizeGrad, type ResizeGradAttrs } from "./ops/resize/interpolate.ts";
export type { ResizeAttrs } from "./ops/resize/resize_options.ts";
export { type ScaledDotProductAttentionOptions, scaledDotProductAttention } from "./ops/attention/attention.ts";
export { clipGradNorm, gradNorm } from "./optim/clip_grad.ts";
export { assertFinite } from "./ops/finite/assert_finite.ts";
export { GradScaler, type GradScalerOptions, type GradScalerState } from "./optim/grad_scaler.ts";
export { conv2d, type Conv2dOptions } from "./ops/conv2d/conv2d.ts";
export { linear, matmul, matmulFused, type MatmulFusedOptions, type MatmulOptions } from "./ops/matmul/matmul.ts";
export type { Activation as MatmulActivation } from "./ops/matmul/matmul_epilogue.ts";
export { constantParameter, layerOptions, uniformParameter, withInitStream } from "./nn/init.ts";
export { Linear } from "./nn/linear.ts";
export { Conv2d, type Conv2dOptions as Conv2dLayerOptions } from "./nn/conv2d.ts";
export { GroupNorm, LayerNorm } from "./nn/norms.ts";
export { Embedding } from "./nn/embedding.ts";
export { Attention, type AttentionOptions } from "./nn/attention.ts";
export { Activation, Dropout, quickGelu } from "./nn/activations.ts";
export { loadWeights, type LoadWeightsOptions, type WeightSource } from "./nn/load_weights.ts";
export { HostOffload, hostOffloadOf, offloadToHost } from "./nn/offload.ts";
export { applyAdapters, type LayerAdapter } from "./nn/adapter.ts";
export { type ConfigReaderOptions, DiffusersConfigReader, UnsupportedConfigError } from "./config/config_reader.ts";
export { parseDiffusersJson } from "./config/diffusers_json.ts";
