// Asserts that a function throws a SafetensorsError with a given code (and message, tensor name).

import assert from "node:assert/strict";
import { SafetensorsError, type SafetensorsErrorCode } from "../errors.ts";

interface Expected {
  code: SafetensorsErrorCode;
  message?: RegExp | string;
  tensorName?: string;
}

function check(error: unknown, expected: Expected): true {
  assert.ok(error instanceof SafetensorsError, `expected a SafetensorsError, got ${String(error)}`);
  assert.equal(error.code, expected.code, error.message);
  if (typeof expected.message === "string") assert.equal(error.message, expected.message);
  if (expected.message instanceof RegExp) assert.match(error.message, expected.message);
  if (expected.tensorName !== undefined) assert.equal(error.tensorName, expected.tensorName);
  return true;
}

/** Asserts `run` throws a SafetensorsError matching `expected`. */
export function assertSafetensorsError(run: () => unknown, expected: Expected): void {
  assert.throws(run, (error: unknown) => check(error, expected));
}

/** Asserts `promise` rejects with a SafetensorsError matching `expected`. */
export async function assertRejectsSafetensorsError(promise: Promise<unknown>, expected: Expected): Promise<void> {
  await assert.rejects(promise, (error: unknown) => check(error, expected));
}
