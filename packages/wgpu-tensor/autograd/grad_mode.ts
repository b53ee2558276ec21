let gradDepthDisabled = 0;

/** Whether ops record a graph for backward (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradDepthDisabled === 0;
}

/**
 * Runs `fn` without recording gradients (like `torch.no_grad()`); restores the mode even if `fn`
 * throws.
 * @example
 * ```ts
 * const y = noGrad(() => model.forward(x)); // y.requiresGrad === false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  gradDepthDisabled++;
  try {
    return fn();
  } finally {
    gradDepthDisabled--;
  }
}
