import type { KindRunner } from "../kind_runner.ts";
import { clipTextKind } from "./clip_text.ts";
import { clipVisionKind } from "./clip_vision.ts";
import { promptParserKind } from "./prompt_parser.ts";
import { resizeKind } from "./resize.ts";
import { schedulerKind } from "./scheduler.ts";
import { spmTimeConditioningKind } from "./spm_time_conditioning.ts";
import { taesdKind } from "./taesd.ts";
import { tokenizerKind } from "./tokenizer.ts";
import { torchCheckpointKind } from "./torch_checkpoint.ts";
import { vaeKind } from "./vae.ts";
import { unetKind } from "./unet.ts";
import { unetGradKind } from "./unet_grad.ts";
import { unetLoraKind } from "./unet_lora.ts";
import { spoLogprobLossKind } from "./spo_logprob_loss.ts";

/**
 * The oracle kinds the project can check, by manifest `kind`. A new kind (`unet`, `scheduler`,
 * `clip_text`, …) is one module in this folder plus one line here.
 */
export const kindRunners: Record<string, KindRunner> = {
  [resizeKind.kind]: resizeKind,
  [tokenizerKind.kind]: tokenizerKind,
  [promptParserKind.kind]: promptParserKind,
  [schedulerKind.kind]: schedulerKind,
  [clipTextKind.kind]: clipTextKind,
  [clipVisionKind.kind]: clipVisionKind,
  [vaeKind.kind]: vaeKind,
  [taesdKind.kind]: taesdKind,
  [unetKind.kind]: unetKind,
  [unetGradKind.kind]: unetGradKind,
  [unetLoraKind.kind]: unetLoraKind,
  [torchCheckpointKind.kind]: torchCheckpointKind,
  [spmTimeConditioningKind.kind]: spmTimeConditioningKind,
  [spoLogprobLossKind.kind]: spoLogprobLossKind,
};
