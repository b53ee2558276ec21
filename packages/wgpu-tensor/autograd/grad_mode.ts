let gradDisabledDepth = 0;

/** Whether ops record a graph for backward (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradDisabledDepth === 0;
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
  gradDisabledDepth++;
  try {
    return fn();
  } finally {
    gradDisabledDepth--;
  }
}

/**
 * Runs `fn` with gradient recording on, even inside `noGrad` (like `torch.enable_grad()`);
 * gradient checkpointing uses it to rebuild a block's graph during backward.
 */
export function withGrad<T>(fn: () => T): T {
  const saved = gradDisabledDepth;
  gradDisabledDepth = 0;
  try {
    return fn();
  } finally {
    gradDisabledDepth = saved;
  }
}
