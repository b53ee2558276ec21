/**
 * Which errors are expected failures of the command line (bad input, missing files, a server
 * that does not answer, numbers that went non-finite) and their exit codes. Those print one line;
 * anything else is a bug and prints its stack.
 *
 * @module
 */

import { LoraLoadError } from "@spo/lora";
import { SafetensorsError } from "@spo/safetensors";
import { DeviceDestroyedError, DeviceLostError, GpuError, NoAdapterError, NonFiniteError, StateDictError } from "@spo/wgpu-tensor";
import { ModelFolderError } from "../pipeline/load_pipeline.ts";
import { ModelSourceError } from "../pipeline/model_source.ts";
import { LoraFileError, LoraNotFoundError } from "../pipeline/prompt_loras.ts";
import { PromptSyntaxError } from "../prompt/prompt_attention.ts";
import { UsageError } from "./args.ts";

/** A check of the environment before loading failed (not a mistake in the arguments): exit code 1. */
export class PreflightError extends Error {
  override name = "PreflightError";
}

/** Mistakes in what the user typed: exit code 2. */
const USAGE_ERRORS = [UsageError, PromptSyntaxError];

/** Failures of the run, explained by their message: exit code 1. */
const RUN_FAILURES = [
  PreflightError,
  ModelFolderError,
  ModelSourceError,
  LoraNotFoundError,
  LoraFileError,
  LoraLoadError,
  SafetensorsError,
  StateDictError,
  NonFiniteError,
  NoAdapterError,
  DeviceLostError,
  DeviceDestroyedError,
  GpuError,
  // generate()'s own option checks
  RangeError,
];

/** The exit code and one-line message of an expected failure, or null for a bug. */
export function describeFailure(error: unknown): { exitCode: number; message: string } | null {
  if (!(error instanceof Error)) return null;
  const oneLine = error.message.split("\n")[0]!;
  if (USAGE_ERRORS.some((kind) => error instanceof kind)) return { exitCode: 2, message: oneLine };
  if (RUN_FAILURES.some((kind) => error instanceof kind)) return { exitCode: 1, message: oneLine };
  // file system failures (EACCES, ENOSPC, EISDIR, …) carry a code and name the path
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return { exitCode: 1, message: oneLine };
  return null;
}
