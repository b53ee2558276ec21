// Test helper: asserts that a promise rejects with a TorchCheckpointError of a given code whose
// message matches.

import assert from "node:assert/strict";
import { TorchCheckpointError, type TorchCheckpointErrorCode } from "../errors.ts";

export async function assertRejectsWith(
  promise: Promise<unknown>,
  code: TorchCheckpointErrorCode,
  message?: RegExp,
): Promise<TorchCheckpointError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TorchCheckpointError, `expected a TorchCheckpointError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected a TorchCheckpointError "${code}", nothing was thrown`);
}
