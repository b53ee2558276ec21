// The ops the nn layers are built on, in one place (layers import from here, not from each op folder).
export { linear, matmul } from "../ops/matmul/matmul.ts";
export { conv2d } from "../ops/conv2d/conv2d.ts";
export { groupNorm } from "../ops/norm/group_norm.ts";
export { layerNorm } from "../ops/norm/layer_norm.ts";
export { embedding } from "../ops/movement/embedding.ts";
export { permute } from "../ops/movement/permute.ts";
export { reshape } from "../ops/movement/reshape.ts";
export { scaledDotProductAttention } from "../ops/attention/attention.ts";
