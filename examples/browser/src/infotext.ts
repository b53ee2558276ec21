/**
 * AUTOMATIC1111's "infotext": the generation settings as the webui writes them into a PNG's
 * `parameters` text chunk, so a saved image can be dropped into PNG Info (or read by other tools)
 * and regenerated. Three parts: the prompt, `Negative prompt: …` when there is one, and a line of
 * `Key: value` pairs.
 *
 * @module
 */
import type { SchedulerName } from "@spo/pipeline";

/** The webui's sampler names for ours. */
export const A1111_SAMPLER_NAMES: Record<SchedulerName, string> = {
  ddim: "DDIM",
  ddpm: "DDPM",
  euler_a: "Euler a",
  dpmpp_2m: "DPM++ 2M",
  dpmpp_2m_karras: "DPM++ 2M Karras",
};

/** The settings of one image. */
export interface InfotextSettings {
  prompt: string;
  negativePrompt: string;
  steps: number;
  sampler: SchedulerName;
  cfgScale: number;
  /** This image's own seed (a batch's image i has seed + i). */
  seed: number;
  width: number;
  height: number;
  /** The model's name (its folder's). */
  model: string;
}

/** A value as the webui writes it: quoted (with JSON escapes) when it holds a comma, colon or quote. */
function quoteIfNeeded(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The infotext of one image.
 *
 * @example
 * ```ts
 * formatInfotext({ prompt: "a fox", negativePrompt: "", steps: 20, sampler: "euler_a", cfgScale: 7, seed: 42, width: 512, height: 512, model: "sd15" });
 * // "a fox\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model: sd15"
 * ```
 */
export function formatInfotext(settings: InfotextSettings): string {
  const lines = [settings.prompt];
  if (settings.negativePrompt !== "") lines.push(`Negative prompt: ${settings.negativePrompt}`);
  const pairs: [string, string][] = [
    ["Steps", String(settings.steps)],
    ["Sampler", A1111_SAMPLER_NAMES[settings.sampler]],
    ["CFG scale", String(settings.cfgScale)],
    ["Seed", String(settings.seed)],
    ["Size", `${settings.width}x${settings.height}`],
    ["Model", settings.model],
  ];
  lines.push(
    pairs
      .filter(([, value]) => value !== "")
      .map(([key, value]) => `${key}: ${quoteIfNeeded(value)}`)
      .join(", "),
  );
  return lines.join("\n");
}
