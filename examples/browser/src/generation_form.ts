/**
 * The Quick Generate form read into generation settings, with a message naming the field for a
 * bad value (checked before anything runs on the GPU).
 *
 * @module
 */
import { SCHEDULER_NAMES, type SchedulerName } from "@spo/pipeline";

/** What the form asks for. */
export interface GenerationSettings {
  prompt: string;
  negativePrompt: string;
  steps: number;
  cfgScale: number;
  seed: number;
  sampler: SchedulerName;
  width: number;
  height: number;
  batch: number;
}

/** A form value out of range; `field` is the input's id. */
export class SettingsError extends RangeError {
  override name = "SettingsError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function integer(form: HTMLFormElement, id: string, label: string, min: number, max: number, multipleOf = 1): number {
  const text = (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();
  const value = Number(text);
  if (text === "" || !Number.isInteger(value) || value < min || value > max || value % multipleOf !== 0) {
    const what = multipleOf > 1 ? `a multiple of ${multipleOf} from ${min} to ${max}` : `a whole number from ${min} to ${max}`;
    throw new SettingsError(id, `${label} must be ${what}, not "${text}"`);
  }
  return value;
}

/**
 * Reads and checks the form. `sizeMultiple` is the model's (8 × the VAE's scale factor for latent
 * models, 8 in pixel space).
 */
export function readSettings(form: HTMLFormElement, sizeMultiple = 8): GenerationSettings {
  const text = (id: string) => (form.querySelector(`#${id}`) as HTMLInputElement | HTMLTextAreaElement).value;
  const cfgText = text("cfg").trim();
  const cfgScale = Number(cfgText);
  if (cfgText === "" || !Number.isFinite(cfgScale) || cfgScale < 1 || cfgScale > 30)
    throw new SettingsError("cfg", `CFG scale must be a number from 1 to 30, not "${cfgText}"`);
  const sampler = text("sampler");
  if (!(SCHEDULER_NAMES as readonly string[]).includes(sampler)) throw new SettingsError("sampler", `Unknown sampler "${sampler}"`);
  return {
    prompt: text("prompt"),
    negativePrompt: text("negative"),
    steps: integer(form, "steps", "Steps", 1, 150),
    cfgScale,
    seed: integer(form, "seed", "Seed", 0, 2 ** 32 - 1),
    sampler: sampler as SchedulerName,
    width: integer(form, "width", "Width", sizeMultiple, 2048, sizeMultiple),
    height: integer(form, "height", "Height", sizeMultiple, 2048, sizeMultiple),
    batch: integer(form, "batch", "Batch size", 1, 16),
  };
}
