import { arangeFloat, f32, linspace, roundHalfEven } from "./_numpy.ts";

/**
 * How `set_timesteps(n)` picks n of the training timesteps (diffusers `timestep_spacing`, see
 * Table 2 of arXiv 2305.08891): "leading" counts up from 0 by ⌊T/n⌋ (plus `steps_offset`),
 * "trailing" counts down from T − 1 by T/n, "linspace" spreads n values over [0, T − 1].
 */
export type TimestepSpacing = "leading" | "trailing" | "linspace";

export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ["leading", "trailing", "linspace"];

/** Options shared by the spacing functions. */
export interface SpacingOptions {
  spacing: TimestepSpacing;
  numTrainTimesteps: number;
  stepsOffset: number;
}

/**
 * The integer timesteps of DDIM's and DDPM's `set_timesteps(count)`, largest first.
 *
 * @example
 * ```ts
 * discreteTimesteps(5, { spacing: "leading", numTrainTimesteps: 1000, stepsOffset: 1 }); // [801, 601, 401, 201, 1]
 * ```
 */
export function discreteTimesteps(count: number, options: SpacingOptions): number[] {
  const { numTrainTimesteps: T, stepsOffset } = options;
  checkCount(count, T);
  switch (options.spacing) {
    case "linspace":
      return linspace(0, T - 1, count)
        .map(roundHalfEven)
        .reverse();
    case "leading": {
      const stepRatio = Math.floor(T / count);
      return Array.from({ length: count }, (_, i) => i * stepRatio + stepsOffset).reverse();
    }
    case "trailing":
      return arangeFloat(T, 0, -T / count).map((t) => roundHalfEven(t) - 1);
  }
}

/**
 * The float timesteps of `EulerAncestralDiscreteScheduler.set_timesteps(count)` (float32 values;
 * "linspace" keeps fractions such as 946.42108).
 */
export function eulerTimesteps(count: number, options: SpacingOptions): number[] {
  const { numTrainTimesteps: T, stepsOffset } = options;
  checkCount(count, T);
  switch (options.spacing) {
    case "linspace":
      return linspace(0, T - 1, count)
        .map(f32)
        .reverse();
    case "leading": {
      const stepRatio = Math.floor(T / count);
      return Array.from({ length: count }, (_, i) => i * stepRatio + stepsOffset).reverse();
    }
    case "trailing":
      return arangeFloat(T, 0, -T / count).map((t) => roundHalfEven(t) - 1);
  }
}

/**
 * The integer timesteps of `DPMSolverMultistepScheduler.set_timesteps(count)` before any sigma
 * conversion: n + 1 points with the last (t = 0) dropped; `lastTimestep` is T unless
 * `lambda_min_clipped` cuts the schedule short.
 */
export function dpmSolverTimesteps(count: number, options: SpacingOptions & { lastTimestep: number }): number[] {
  const { numTrainTimesteps: T, stepsOffset, lastTimestep } = options;
  checkCount(count, T);
  switch (options.spacing) {
    case "linspace":
      return linspace(0, lastTimestep - 1, count + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, -1);
    case "leading": {
      const stepRatio = Math.floor(lastTimestep / (count + 1));
      return Array.from({ length: count + 1 }, (_, i) => i * stepRatio + stepsOffset)
        .reverse()
        .slice(0, -1);
    }
    case "trailing":
      return arangeFloat(lastTimestep, 0, -T / count).map((t) => roundHalfEven(t) - 1);
  }
}

/**
 * Throws unless there are `count` non-increasing timesteps inside [0, T). numpy's float `arange`
 * makes one value too many for some counts (e.g. "trailing" with 61 steps gives t = −1) and
 * "leading" with an offset can reach T; diffusers passes these on silently, here they are errors.
 * Repeats are allowed: Karras σ often map two neighbouring σ to one timestep (e.g. 45 steps end
 * with …, 3, 1, 1, 0), and only the σ matter to the solver.
 */
export function checkTimesteps(scheduler: string, timesteps: readonly number[], count: number, options: SpacingOptions): void {
  const T = options.numTrainTimesteps;
  const isOutside = timesteps.some((t) => !(t >= 0 && t < T));
  const isIncreasing = timesteps.some((t, i) => i > 0 && !(t <= timesteps[i - 1]));
  if (timesteps.length !== count || isOutside || isIncreasing) {
    throw new RangeError(
      `Cannot set ${count} "${options.spacing}" timesteps in ${scheduler}: the spacing gives ${timesteps.length} values ` +
        `[${timesteps.join(", ")}], expected ${count} non-increasing values inside [0, ${T}) (choose another step count or spacing)`,
    );
  }
}

function checkCount(count: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(count) || count < 1 || count > numTrainTimesteps) {
    throw new RangeError(`Cannot set ${count} inference steps: it must be an integer in [1, ${numTrainTimesteps}] (num_train_timesteps)`);
  }
}
