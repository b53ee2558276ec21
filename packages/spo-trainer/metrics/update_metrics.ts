/**
 * What the trainer measures at every optimizer update, written as JSON lines (one object per
 * update) and drawn by `metricsChartSvg`.
 *
 * @module
 */

/** One optimizer update. Numbers that do not apply to a method are null. */
export interface UpdateMetrics {
  update: number;
  epoch: number;
  iteration: number;
  /** Mean loss of the minibatches of this update. */
  loss: number;
  /** Fraction of transition ratios outside [1 − ε, 1 + ε] (SPO), or of pairs with a negative implicit margin (Diffusion-DPO). */
  clampedFraction: number;
  /** Pairs kept / pools offered by the iteration's sampling (SPO); pairs in the iteration (Diffusion-DPO). */
  pairsKept: number;
  pairsOffered: number;
  /** Mean scorer value of every child sampled in the iteration (SPO). */
  meanScore: number | null;
  /** Mean exact reward of the iteration's final samples, when a reward function is given. */
  reward: number | null;
  /** L2 norm of all LoRA parameters after the update. */
  loraNorm: number;
  learningRate: number;
  /** Seconds since the run (or resume) started. */
  seconds: number;
}

/** One JSON line (with the newline). */
export function metricsLine(metrics: UpdateMetrics): string {
  return `${JSON.stringify(metrics)}\n`;
}

/** Parses a JSON-lines metrics file, skipping empty lines. */
export function parseMetricsLines(text: string): UpdateMetrics[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as UpdateMetrics;
      } catch (error) {
        throw new SyntaxError(`Cannot read metrics line ${i + 1}: ${(error as Error).message}`);
      }
    });
}
