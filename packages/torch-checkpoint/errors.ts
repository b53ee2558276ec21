/**
 * The one error type this package throws.
 *
 * @module
 */

/**
 * What went wrong, as a stable string that code can switch on.
 *
 * - the container: `not_a_checkpoint`, `unsupported_format`, `corrupt_zip`, `unsupported_zip`, `missing_record`
 * - the pickle: `corrupt_pickle`, `forbidden_global`, `forbidden_call`, `unsupported_opcode`, `limit_exceeded`
 * - what the pickle builds: `invalid_tensor`, `invalid_storage`, `unsupported_dtype`
 * - using an opened checkpoint: `tensor_not_found`, `closed`
 * - transport: `io`, `truncated` (the file ends before what it declares)
 */
export type TorchCheckpointErrorCode =
  | "not_a_checkpoint"
  | "unsupported_format"
  | "corrupt_zip"
  | "unsupported_zip"
  | "missing_record"
  | "corrupt_pickle"
  | "forbidden_global"
  | "forbidden_call"
  | "unsupported_opcode"
  | "limit_exceeded"
  | "invalid_tensor"
  | "invalid_storage"
  | "unsupported_dtype"
  | "tensor_not_found"
  | "closed"
  | "io"
  | "truncated";

/** Extra fields of a {@link TorchCheckpointError}. */
export interface TorchCheckpointErrorOptions {
  /** The dotted Python name the pickle asked for (`posix.system`), for `forbidden_global` and `forbidden_call`. */
  globalName?: string;
  /** The key path of the tensor the error is about, when there is one. */
  tensorName?: string;
  /** The underlying error (a failed read, a failed decompression). */
  cause?: unknown;
}

/**
 * A checkpoint that cannot be read safely: not a PyTorch file, a corrupt archive or pickle, a
 * pickle that asks for something other than plain data, or tensors that do not fit their storages.
 *
 * Messages name the action, then after a colon what was found and what was expected.
 *
 * @example
 * ```ts
 * import { openTorchCheckpointBytes, TorchCheckpointError } from "@spo/torch-checkpoint";
 * try {
 *   await openTorchCheckpointBytes(new Uint8Array([1, 2, 3]));
 * } catch (error) {
 *   if (error instanceof TorchCheckpointError) console.log(error.code); // "not_a_checkpoint"
 * }
 * ```
 */
export class TorchCheckpointError extends Error {
  /** What went wrong, as a stable string. */
  readonly code: TorchCheckpointErrorCode;
  /** The dotted Python name that was refused, when the error is about one. */
  readonly globalName: string | undefined;
  /** The tensor the error is about, when there is one. */
  readonly tensorName: string | undefined;

  constructor(code: TorchCheckpointErrorCode, message: string, options: TorchCheckpointErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TorchCheckpointError";
    this.code = code;
    this.globalName = options.globalName;
    this.tensorName = options.tensorName;
  }
}
