// An abort signal for one HTTP request that fires after `timeoutMs` without progress (no answer,
// or no new body bytes), or when the caller's own signal fires.

/** Aborts its signal after `timeoutMs` without a `touch()`, or when `outer` aborts. */
export class IdleTimer {
  readonly signal: AbortSignal;
  /** Whether the abort came from the timer (not from the caller's signal). */
  isExpired = false;
  readonly #controller = new AbortController();
  readonly #timeoutMs: number;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.#controller.abort(this.#outer?.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number, outer: AbortSignal | undefined) {
    this.#timeoutMs = timeoutMs;
    this.#outer = outer;
    this.signal = this.#controller.signal;
    if (outer?.aborted) this.#onOuterAbort();
    outer?.addEventListener("abort", this.#onOuterAbort, { once: true });
    this.touch();
  }

  /** Progress was made: the idle time starts again. */
  touch(): void {
    clearTimeout(this.#timer);
    if (this.signal.aborted || !Number.isFinite(this.#timeoutMs)) return;
    this.#timer = setTimeout(() => {
      this.isExpired = true;
      this.#controller.abort(new Error(`no progress for ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
  }

  /** The request is over: stop the timer and let go of the caller's signal. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }
}
