/** A tensor op was called with shapes that do not fit together. Thrown before any GPU work. */
export class ShapeError extends TypeError {
  override name = "ShapeError";
  constructor(
    readonly op: string,
    readonly shapes: readonly (readonly number[])[],
    message: string,
  ) {
    super(message);
  }
}

/** A tensor op was called with dtypes it does not accept. Thrown before any GPU work. */
export class DTypeError extends TypeError {
  override name = "DTypeError";
  constructor(
    readonly op: string,
    readonly dtypes: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** Tensors from two different devices met in one op. */
export class DeviceMismatchError extends Error {
  override name = "DeviceMismatchError";
  constructor(
    readonly op: string,
    message?: string,
  ) {
    super(message ?? `Cannot run ${op}: its tensors live on different devices`);
  }
}

/** A tensor was used after `dispose()`. */
export class DisposedError extends Error {
  override name = "DisposedError";
  constructor(
    readonly op: string,
    readonly shape: readonly number[],
    message?: string,
  ) {
    super(message ?? `Cannot run ${op}: a tensor of shape [${shape.join(", ")}] was already disposed`);
  }
}

/**
 * A tensor that must be finite (a loss, a gradient norm, the final latents) holds NaN or ±Inf.
 * `stage` names what was checked; `index` is the first bad element (row-major).
 */
export class NonFiniteError extends RangeError {
  override name = "NonFiniteError";
  constructor(
    readonly stage: string,
    readonly shape: readonly number[],
    readonly index: number,
    readonly value: number,
    readonly count: number,
  ) {
    super(
      `Cannot use ${stage}: element ${index} of [${shape.join(", ")}] is ${value} (${count} of ${shape.reduce((a, b) => a * b, 1)} values are not finite)`,
    );
  }
}
