// Test helpers: the spm_time_conditioning oracle case (manifest, weights under other key layouts,
// inputs and expected outputs).

import { readFileSync } from "node:fs";
import {
  openSafetensors,
  parseSafetensors,
  type SafeTensor,
  type SafetensorsReader,
  serializeSafetensors,
  type TensorInput,
  toFloat32Array,
} from "@spo/safetensors";

export interface SpmFixture {
  manifest: { config: Record<string, unknown>; tolerance: { atol: number; rtol: number } };
  /** The case's weights by their checkpoint names (the `weights.` prefix removed). */
  weights: Map<string, SafeTensor>;
  /** Any other tensor of the case as f32 values. */
  values(name: string): { data: Float32Array; shape: number[] };
}

export function spmFixture(): SpmFixture {
  const folder = new URL("./fixtures/oracle/", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("spm_time_conditioning.json", folder), "utf8"));
  const parsed = parseSafetensors(readFileSync(new URL(manifest.file, folder)));
  const weights = new Map<string, SafeTensor>();
  for (const [name, t] of parsed.tensors) if (name.startsWith("weights.")) weights.set(name.slice("weights.".length), t);
  const values = (name: string) => {
    const t = parsed.tensors.get(name);
    if (!t) throw new Error(`the fixture has no tensor ${name}`);
    return { data: toFloat32Array(t), shape: [...t.shape] };
  };
  return { manifest, weights, values };
}

/** An in-memory safetensors reader over tensors renamed by `rename` (null drops one). */
export function readerOf(
  weights: ReadonlyMap<string, TensorInput>,
  rename: (name: string) => string | null = (n) => n,
): Promise<SafetensorsReader> {
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of weights) {
    const renamed = rename(name);
    if (renamed !== null) tensors.set(renamed, t);
  }
  const bytes = serializeSafetensors(tensors);
  return openSafetensors({ description: "memory", byteLength: bytes.length, read: async (start, end) => bytes.slice(start, end) });
}

/** The rows of an [N, L] id tensor. */
export function idRows(ids: { data: Float32Array; shape: number[] }): number[][] {
  const [rows, length] = ids.shape;
  return Array.from({ length: rows }, (_, i) => Array.from(ids.data.subarray(i * length, (i + 1) * length)));
}
