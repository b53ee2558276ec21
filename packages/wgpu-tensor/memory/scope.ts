/** Anything a scope can dispose. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: the innermost open scope will dispose it unless it is kept. */
export function trackInScope(item: Disposable): void {
  scopes.at(-1)?.add(item);
}

/**
 * Marks a tensor to survive the scopes it was made in (like tfjs `keep`).
 * @example
 * ```ts
 * let kept!: Tensor;
 * tidy(() => { kept = keep(ones([2])); mul(kept, 2); }); // the product is freed, `kept` is not
 * ```
 */
export function keep<T extends Disposable>(item: T): T {
  for (const scope of scopes) scope.delete(item);
  return item;
}

/**
 * Runs `fn` and disposes every tensor created inside it, except what it returns (a tensor, an
 * array or a record of tensors) and what was `keep`-ed. Scopes nest; a returned tensor moves to
 * the enclosing scope. `fn` must be synchronous: GPU work is recorded, not awaited, so this is
 * still the right tool around eager GPU code.
 *
 * @example
 * ```ts
 * const y = tidy(() => add(mul(x, 2), 1)); // the intermediate product is freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
    const survivors = collectDisposables(result!);
    for (const item of scope) {
      if (survivors.has(item)) continue;
      if (!item.isDisposed) item.dispose();
    }
    for (const item of survivors) trackInScope(item);
  }
  return result;
}

function collectDisposables(value: unknown): Set<Disposable> {
  const found = new Set<Disposable>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== "object") return;
    if (typeof (v as Disposable).dispose === "function" && "isDisposed" in (v as object)) {
      found.add(v as Disposable);
      return;
    }
    if (Array.isArray(v)) v.forEach(visit);
    else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach(visit);
  };
  visit(value);
  return found;
}
