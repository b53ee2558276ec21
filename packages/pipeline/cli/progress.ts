/**
 * A one-line progress bar for a terminal stream (redrawn with `\r`).
 *
 * @module
 */

/**
 * The bar text: `label [#####.....] 5/10 2.1 s/it`.
 *
 * @example
 * ```ts
 * progressLine("sampling", 5, 10, 20, 10.5); // "sampling [##########----------] 5/10 2.10 s/it"
 * ```
 */
export function progressLine(label: string, done: number, total: number, width: number, elapsedSeconds: number): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  const rate = done > 0 ? `${(elapsedSeconds / done).toFixed(2)} s/it` : "";
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${rate}`.trimEnd();
}
