import type { Device, Module } from "../../packages/wgpu-tensor/mod.ts";
import type { SafeTensor, SafetensorsReader } from "../../packages/safetensors/mod.ts";
import type { Manifest } from "./manifest.ts";

/** What a kind's runner produced for one output name. */
export type ProducedOutput =
  /** Values compared with the case file's tensor of the same name (integer dtypes exactly). */
  | { type: "tensor"; data: ArrayLike<number>; shape: readonly number[] }
  /** Values compared with expectations the runner read itself (inline JSON cases). */
  | { type: "values"; got: ArrayLike<number>; want: ArrayLike<number> }
  /** Structured values (strings, nested lists) compared field by field, numbers with tolerance. */
  | { type: "json"; got: unknown; want: unknown };

/** What a runner gets for one case. */
export interface CaseContext {
  readonly manifest: Manifest;
  /** The folder holding the manifest. */
  readonly folder: string;
  readonly device: Device;
  /** A tensor of the case's own file (`manifest.file`). */
  tensor(name: string): Promise<SafeTensor>;
  /** A tensor of the case's file as float32 values with its shape. */
  float32(name: string): Promise<{ data: Float32Array; shape: number[] }>;
  /** Any safetensors file of the folder (weights_file, lora_files), opened once per case. */
  open(fileName: string): Promise<SafetensorsReader>;
  /** The dtype model kinds build their models in (`--dtype`; f32 by default). */
  readonly dtype: "f32" | "f16";
  /**
   * A model kind calls this with the model it built in f16: its outputs are then compared with the
   * f16 allowance of half_precision.ts (which needs the model's depth).
   */
  ranInHalfPrecision(model: Module): void;
}

/**
 * Runs every case of one `kind` through the project's public API. Add a kind by writing one
 * module exporting a `KindRunner` and listing it in kinds/registry.ts.
 */
export interface KindRunner {
  kind: string;
  /** Computes the manifest's outputs (by output name). Throw UnsupportedCaseError to skip. */
  run(context: CaseContext): Promise<Map<string, ProducedOutput>>;
}

/** A case uses a feature the project does not implement (reported as SKIP, not FAIL). */
export class UnsupportedCaseError extends Error {
  override name = "UnsupportedCaseError";
}
