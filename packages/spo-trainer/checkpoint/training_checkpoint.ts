/**
 * A training checkpoint as files, built and read without Node (so a browser can keep them in
 * OPFS or IndexedDB): `lora.safetensors` in the published SPO diffusers format (fp32,
 * `unet.<module>.lora.down/up.weight`), `training_state.safetensors` (the adapter's raw
 * parameters and AdamW's moments, bit for bit) and `state.json` (progress, RNG state, config,
 * metrics).
 *
 * @module
 */

import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from "@spo/safetensors";
import type { GeneratorState, GradScalerState, OptimizerState } from "@spo/wgpu-tensor";
import type { UpdateMetrics } from "../metrics/update_metrics.ts";
import type { SpoTrainConfig } from "../training/train_config.ts";

/** Where a run stands: enough, with the weights and optimizer, to continue bit for bit. */
export interface TrainingProgress {
  epoch: number;
  /** Index of the next prompt (or pair) in this epoch's order. */
  position: number;
  /** Iterations (sample + train) completed. */
  iteration: number;
  /** Optimizer updates completed. */
  update: number;
  /** The run generator's Philox state. */
  generator: GeneratorState;
}

/** Everything a checkpoint holds, in memory. */
export interface TrainingCheckpoint {
  progress: TrainingProgress;
  config: SpoTrainConfig;
  metrics: UpdateMetrics[];
  /** Adapter parameters by state-dict name (`unet.<path>.lora_A.weight`). */
  adapter: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: OptimizerState;
  /** The loss scaler's scale and clean-step count (runs with f16 weights; absent otherwise). */
  gradScaler?: GradScalerState;
}

/** A checkpoint's files by name. */
export type CheckpointFiles = Map<string, Uint8Array>;

export const CHECKPOINT_FORMAT = "spo-trainer-checkpoint/1";

/** Thrown when a checkpoint's files are missing, damaged or of another format. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/**
 * The checkpoint as files. `lora` is the diffusers-format LoRA (`saveLora(adapter, "diffusers")`).
 *
 * @example
 * ```ts
 * const files = encodeCheckpoint(checkpoint, await saveLora(adapter, "diffusers"));
 * ```
 */
export function encodeCheckpoint(
  checkpoint: TrainingCheckpoint,
  lora: { tensors: ReadonlyMap<string, TensorInput>; metadata: Record<string, string> },
): CheckpointFiles {
  const state = new Map<string, TensorInput>();
  for (const [name, value] of checkpoint.adapter) state.set(`adapter.${name}`, { dtype: "F32", shape: value.shape, data: value.data });
  checkpoint.optimizer.slots.forEach((slots, i) => {
    for (const [slot, data] of Object.entries(slots)) state.set(`optimizer.${i}.${slot}`, { dtype: "F32", shape: [data.length], data });
  });
  const meta = {
    format: CHECKPOINT_FORMAT,
    optimizer_step: String(checkpoint.optimizer.step),
    optimizer_hyperparameters: JSON.stringify(checkpoint.optimizer.hyperparameters),
  };
  const json = {
    format: CHECKPOINT_FORMAT,
    progress: checkpoint.progress,
    config: checkpoint.config,
    metrics: checkpoint.metrics,
    ...(checkpoint.gradScaler ? { gradScaler: checkpoint.gradScaler } : {}),
  };
  return new Map([
    ["lora.safetensors", serializeSafetensors(lora.tensors, { ...lora.metadata, spo_trainer_update: String(checkpoint.progress.update) })],
    ["training_state.safetensors", serializeSafetensors(state, meta)],
    ["state.json", new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`)],
  ]);
}

/** Reads the files written by `encodeCheckpoint`. */
export function decodeCheckpoint(files: CheckpointFiles): TrainingCheckpoint {
  const stateBytes = files.get("training_state.safetensors");
  const jsonBytes = files.get("state.json");
  if (!stateBytes || !jsonBytes)
    throw new CheckpointError(`Cannot read the checkpoint: it lacks ${!stateBytes ? "training_state.safetensors" : "state.json"}`);
  const json = JSON.parse(new TextDecoder().decode(jsonBytes));
  if (json.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `Cannot read the checkpoint: state.json has format ${JSON.stringify(json.format)}, expected ${CHECKPOINT_FORMAT}`,
    );
  const parsed = parseSafetensors(stateBytes);
  const adapter = new Map<string, { shape: number[]; data: Float32Array }>();
  const slots: Record<string, Float32Array>[] = [];
  for (const [name, t] of parsed.tensors) {
    const data = Float32Array.from(toFloat32Array(t));
    if (name.startsWith("adapter.")) adapter.set(name.slice("adapter.".length), { shape: [...t.shape], data });
    else if (name.startsWith("optimizer.")) {
      const [, index, slot] = name.split(".");
      (slots[Number(index)] ??= {})[slot] = data;
    }
  }
  const metadata = parsed.metadata ?? {};
  return {
    progress: json.progress,
    config: json.config,
    metrics: json.metrics,
    adapter,
    optimizer: { step: Number(metadata.optimizer_step), hyperparameters: JSON.parse(metadata.optimizer_hyperparameters ?? "{}"), slots },
    ...(json.gradScaler ? { gradScaler: json.gradScaler } : {}),
  };
}

/** Where checkpoints go: a folder (Node), OPFS, memory (tests). */
export interface CheckpointStore {
  /** Stores the files atomically under `name` and makes them the latest; returns where. */
  save(name: string, files: CheckpointFiles): Promise<string>;
  /** The latest complete checkpoint, or null. */
  latest(): Promise<{ name: string; files: CheckpointFiles } | null>;
}

/** A store in memory (tests, or a browser tab that saves elsewhere itself). */
export function memoryCheckpointStore(): CheckpointStore & { saved: string[] } {
  const all = new Map<string, CheckpointFiles>();
  const saved: string[] = [];
  return {
    saved,
    async save(name, files) {
      all.set(name, new Map([...files].map(([k, v]) => [k, v.slice()])));
      saved.push(name);
      return `memory:${name}`;
    },
    async latest() {
      const name = saved.at(-1);
      return name === undefined ? null : { name, files: all.get(name)! };
    },
  };
}
