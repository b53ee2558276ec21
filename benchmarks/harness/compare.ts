import type { CheckReport, Tolerance } from "./bench_case.ts";

/**
 * Compares our values with the peer's: every element must satisfy
 * `|ours − peer| ≤ atol + rtol·|peer|`, and NaN must match NaN. The report names the worst element.
 *
 * @example
 * ```ts
 * compareValues(new Float32Array([1, 2]), new Float32Array([1, 2.001]), { atol: 1e-4, rtol: 1e-3 }).ok; // true
 * ```
 */
export function compareValues(ours: Float32Array, peer: Float32Array, tolerance: Tolerance): CheckReport {
  if (ours.length !== peer.length) {
    return { ok: false, detail: `ours has ${ours.length} values, the peer ${peer.length}` };
  }
  let worst = -1;
  let worstExcess = 0;
  let maxAbs = 0;
  let failures = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i];
    const b = peer[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) {
        failures++;
        if (worstExcess !== Infinity) [worst, worstExcess] = [i, Infinity];
      }
      continue;
    }
    const error = Math.abs(a - b);
    maxAbs = Math.max(maxAbs, error);
    const excess = error / (tolerance.atol + tolerance.rtol * Math.abs(b));
    if (excess > 1) failures++;
    if (excess > worstExcess) [worst, worstExcess] = [i, excess];
  }
  const where = worst >= 0 ? `; worst at ${worst}: ours ${ours[worst]}, peer ${peer[worst]}` : "";
  const bound = `atol ${tolerance.atol}, rtol ${tolerance.rtol}`;
  return failures === 0
    ? { ok: true, detail: `max |error| ${maxAbs.toExponential(2)} over ${ours.length} values (${bound})` }
    : { ok: false, detail: `${failures} of ${ours.length} values differ beyond ${bound}${where}` };
}
