// The page side of the consumer project, bundled for the browser: the tokenizer's vocabulary is
// fetched from where the app serves @spo/clip's assets/clip/ folder (here: ./clip/ beside the page).
import { CLIPTokenizer } from "@spo/clip";
import { type CheckReport, runChecks } from "./checks.ts";

/** Loads the tokenizer from `clipAssetsUrl` and runs the checks on the page's WebGPU. */
export async function runInPage(clipAssetsUrl: string): Promise<CheckReport> {
  const tokenizer = await CLIPTokenizer.fromUrl(new URL(clipAssetsUrl, location.href));
  return runChecks(tokenizer);
}
