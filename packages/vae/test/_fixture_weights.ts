// Test helpers: the oracle fixtures' weights re-packaged under other key layouts, as in-memory
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

/** The manifest, the `weights.` tensors (prefix removed) and the other tensors of an oracle case. */
export function fixtureCase(caseName: string): {
  manifest: FixtureManifest;
  weights: Map<string, SafeTensor>;
  tensors: Map<string, SafeTensor>;
} {
  const folder = new URL("./fixtures/oracle/", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL(`${caseName}.json`, folder), "utf8")) as FixtureManifest;
  const parsed = parseSafetensors(readFileSync(new URL(manifest.file, folder)));
  const weights = new Map<string, SafeTensor>();
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of parsed.tensors) {
    if (name.startsWith("weights.")) weights.set(name.slice("weights.".length), t);
    else tensors.set(name, t);
  }
  return { manifest, weights, tensors };
}

/** Safetensors bytes of tensors renamed by `rename` (null drops one), plus `extra` entries. */
export function bytesOf(
  weights: ReadonlyMap<string, TensorInput>,
  rename: (name: string, t: TensorInput) => [string, TensorInput] | null,
  extra: Record<string, TensorInput> = {},
): Uint8Array<ArrayBuffer> {
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of weights) {
    const renamed = rename(name, t);
    if (renamed !== null) tensors.set(renamed[0], renamed[1]);
  }
  for (const [name, t] of Object.entries(extra)) tensors.set(name, t);
  return serializeSafetensors(tensors);
}

/** An in-memory reader over safetensors bytes. */
export function memoryReader(bytes: Uint8Array): Promise<SafetensorsReader> {
  return openSafetensors({ description: "memory", byteLength: bytes.length, read: async (start, end) => bytes.slice(start, end) });
}
