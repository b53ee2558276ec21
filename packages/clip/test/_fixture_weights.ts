// Test helpers: the oracle fixture's weights re-packaged under other key layouts, as in-memory
// safetensors readers.

import { readFileSync } from "node:fs";
import {
  openSafetensors,
  parseSafetensors,
  type SafeTensor,
  type SafetensorsReader,
  serializeSafetensors,
  type TensorInput,
} from "@spo/safetensors";

/** The manifest fields the tests read. */
export interface FixtureManifest {
  config: Record<string, unknown>;
  file: string;
  tolerance: { atol: number; rtol: number };
}

/** The manifest and the `weights.` tensors (prefix removed) of an oracle case. */
export function fixtureWeights(caseName: string): { manifest: FixtureManifest; weights: Map<string, SafeTensor>; file: string } {
  const folder = new URL("./fixtures/oracle/", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL(`${caseName}.json`, folder), "utf8"));
  const file = new URL(manifest.file, folder).pathname;
  const parsed = parseSafetensors(readFileSync(file));
  const weights = new Map<string, SafeTensor>();
  for (const [name, t] of parsed.tensors) if (name.startsWith("weights.")) weights.set(name.slice("weights.".length), t);
  return { manifest, weights, file };
}

/** An in-memory reader over tensors renamed by `rename` (null drops one), plus `extra` entries. */
export function readerOf(
  weights: ReadonlyMap<string, TensorInput>,
  rename: (name: string) => string | null,
  extra: Record<string, TensorInput> = {},
): Promise<SafetensorsReader> {
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of weights) {
    const renamed = rename(name);
    if (renamed !== null) tensors.set(renamed, t);
  }
  for (const [name, t] of Object.entries(extra)) tensors.set(name, t);
  const bytes = serializeSafetensors(tensors);
  return openSafetensors({ description: "memory", byteLength: bytes.length, read: async (start, end) => bytes.slice(start, end) });
}
