import type { KindRunner } from "../kind_runner.ts";
import { promptParserKind } from "./prompt_parser.ts";
import { resizeKind } from "./resize.ts";
import { schedulerKind } from "./scheduler.ts";
import { tokenizerKind } from "./tokenizer.ts";
import { unetKind } from "./unet.ts";
import { unetGradKind } from "./unet_grad.ts";

/**
 * The oracle kinds the project can check, by manifest `kind`. A new kind (`unet`, `scheduler`,
 * `clip_text`, …) is one module in this folder plus one line here.
 */
export const kindRunners: Record<string, KindRunner> = {
  [resizeKind.kind]: resizeKind,
  [tokenizerKind.kind]: tokenizerKind,
  [promptParserKind.kind]: promptParserKind,
  [schedulerKind.kind]: schedulerKind,
  [unetKind.kind]: unetKind,
  [unetGradKind.kind]: unetGradKind,
};
