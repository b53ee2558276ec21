import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TensorInput } from "@spo/safetensors";
import { readSafetensorsFile, writeSafetensorsFile } from "@spo/safetensors/node";
import type { SpmCheckpoint } from "./train.ts";

const MODEL_FILE = "model.safetensors";
const OPTIMIZER_FILE = "optimizer.safetensors";
const STATE_FILE = "trainer_state.json";

function f32(shape: readonly number[], data: Float32Array): TensorInput {
  return { dtype: "F32", shape: [...shape], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Writes a training checkpoint to a folder: `model.safetensors` (the model's own names, loadable by
 * `loadStepPreferenceModel` with the config), `optimizer.safetensors` (AdamW's moments as
 * `<parameter index>.<slot>`), `trainer_state.json` (step, hyperparameters). The state file is
 * written last, under a temporary name then renamed, so a folder with it is complete.
 *
 * @example
 * ```ts
 * await trainStepPreferenceModel(model, { ...options, onCheckpoint: (c) => saveSpmCheckpoint(`runs/spm/step-${c.step}`, c) });
 * ```
 */
export async function saveSpmCheckpoint(folder: string, checkpoint: SpmCheckpoint): Promise<void> {
  await mkdir(folder, { recursive: true });
  const weights = new Map<string, TensorInput>();
  for (const [name, { shape, data }] of checkpoint.weights) weights.set(name, f32(shape, data));
  await writeSafetensorsFile(join(folder, MODEL_FILE), weights);
  const slots = new Map<string, TensorInput>();
  checkpoint.optimizer.slots.forEach((record, index) => {
    for (const [slot, data] of Object.entries(record)) slots.set(`${index}.${slot}`, f32([data.length], data));
  });
  await writeSafetensorsFile(join(folder, OPTIMIZER_FILE), slots);
  const state = {
    step: checkpoint.step,
    optimizer: {
      step: checkpoint.optimizer.step,
      hyperparameters: checkpoint.optimizer.hyperparameters,
      slotCount: checkpoint.optimizer.slots.length,
    },
  };
  await writeFile(join(folder, `${STATE_FILE}.partial`), JSON.stringify(state, null, 2));
  await rename(join(folder, `${STATE_FILE}.partial`), join(folder, STATE_FILE));
}

/**
 * Reads a checkpoint written by `saveSpmCheckpoint`, to pass as `resumeFrom`.
 *
 * @example
 * ```ts
 * await trainStepPreferenceModel(model, { ...options, resumeFrom: await loadSpmCheckpoint("runs/spm/step-1000") });
 * ```
 */
export async function loadSpmCheckpoint(folder: string): Promise<SpmCheckpoint> {
  const state = JSON.parse(await readFile(join(folder, STATE_FILE), "utf8")) as {
    step: number;
    optimizer: { step: number; hyperparameters: Record<string, number>; slotCount: number };
  };
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const model = await readSafetensorsFile(join(folder, MODEL_FILE));
  try {
    for (const name of model.names) weights.set(name, await model.float32(name));
  } finally {
    await model.close();
  }
  const slots: Record<string, Float32Array>[] = Array.from({ length: state.optimizer.slotCount }, () => ({}));
  const optimizer = await readSafetensorsFile(join(folder, OPTIMIZER_FILE));
  try {
    for (const name of optimizer.names) {
      const dot = name.indexOf(".");
      slots[Number(name.slice(0, dot))][name.slice(dot + 1)] = (await optimizer.float32(name)).data;
    }
  } finally {
    await optimizer.close();
  }
  return { step: state.step, weights, optimizer: { step: state.optimizer.step, hyperparameters: state.optimizer.hyperparameters, slots } };
}
