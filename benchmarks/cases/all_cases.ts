import type { BenchCase } from "../harness/bench_case.ts";
import { conv2dCases } from "./conv2d_cases.ts";
import { elementwiseCases } from "./elementwise_cases.ts";
import { matmulCases } from "./matmul_cases.ts";
import { normCases } from "./norm_cases.ts";
import { softmaxCases } from "./softmax_cases.ts";
import { attentionCases } from "./attention_cases.ts";
import { dispatchCases } from "./dispatch_cases.ts";
import { unetBlockCases } from "./unet_block_cases.ts";

/** Every case of `npm run bench`, in table order. */
export const allCases: BenchCase[] = [
  ...matmulCases,
  ...conv2dCases,
  ...elementwiseCases,
  ...normCases,
  ...softmaxCases,
  ...attentionCases,
  ...dispatchCases,
  ...unetBlockCases,
];
