/**
 * The one error type this package throws.
 *
 * @module
 */

/**
 * What went wrong, as a stable string that code can switch on.
 *
 * - reading the frame: `file_too_small`, `header_too_large`, `header_out_of_bounds`
 * - reading the header text: `invalid_utf8`, `invalid_json`, `invalid_header`, `duplicate_name`
 * - one tensor entry: `unknown_dtype`, `invalid_shape`, `invalid_offsets`, `size_mismatch`
 * - how entries cover the data area: `offsets_out_of_bounds`, `overlap`, `hole`, `incomplete_buffer`
 * - the `__metadata__` entry: `invalid_metadata`
 * - using a parsed file: `tensor_not_found`, `unsupported_dtype`, `closed`
 * - writing: `invalid_tensor`
 * - transport: `io` (file system), `http` (status codes, bad range replies, network failures),
 *   `timeout` (a server that stops answering for the URL reader's `timeoutMs`)
 */
export type SafetensorsErrorCode =
  | "file_too_small"
  | "header_too_large"
  | "header_out_of_bounds"
  | "invalid_utf8"
  | "invalid_json"
  | "invalid_header"
  | "duplicate_name"
  | "unknown_dtype"
  | "invalid_shape"
  | "invalid_offsets"
  | "size_mismatch"
  | "offsets_out_of_bounds"
  | "overlap"
  | "hole"
  | "incomplete_buffer"
  | "invalid_metadata"
  | "tensor_not_found"
  | "unsupported_dtype"
  | "closed"
  | "invalid_tensor"
  | "io"
  | "http"
  | "timeout";

/** Extra fields of a {@link SafetensorsError}. */
export interface SafetensorsErrorOptions {
  /** The tensor the error is about, when there is one. */
  tensorName?: string;
  /** The underlying error (a JSON syntax error, a file system error, a failed fetch). */
  cause?: unknown;
}

/**
 * An invalid safetensors file, an invalid tensor to write, or a failed read.
 *
 * Messages name the action, then after a colon what was found and what was expected.
 *
 * @example
 * ```ts
 * import { parseSafetensors, SafetensorsError } from "@spo/safetensors";
 * try {
 *   parseSafetensors(new Uint8Array(3));
 * } catch (error) {
 *   if (error instanceof SafetensorsError) console.log(error.code); // "file_too_small"
 * }
 * ```
 */
export class SafetensorsError extends Error {
  /** What went wrong, as a stable string. */
  readonly code: SafetensorsErrorCode;
  /** The tensor the error is about, when there is one. */
  readonly tensorName: string | undefined;

  constructor(code: SafetensorsErrorCode, message: string, options: SafetensorsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SafetensorsError";
    this.code = code;
    this.tensorName = options.tensorName;
  }
}
