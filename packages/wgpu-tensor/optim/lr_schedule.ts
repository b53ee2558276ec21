import type { Optimizer } from "./optimizer.ts";

/** Learning rate as a function of the step index (0 for the first optimizer step). */
export type LrSchedule = (step: number) => number;

/** `baseLr` after a linear warm-up of `warmupSteps` (diffusers "constant_with_warmup"; 0 = "constant"). */
export function constantSchedule(baseLr: number, warmupSteps = 0): LrSchedule {
  return (step) => baseLr * (step < warmupSteps ? step / Math.max(1, warmupSteps) : 1);
}

/** Linear warm-up, then linear decay to 0 at `totalSteps` (diffusers/transformers "linear"). */
export function linearSchedule(baseLr: number, warmupSteps: number, totalSteps: number): LrSchedule {
  return (step) => {
    if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
    return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  };
}

/** Linear warm-up, then half a cosine down to 0 at `totalSteps` (transformers "cosine", `numCycles` 0.5). */
export function cosineSchedule(baseLr: number, warmupSteps: number, totalSteps: number, numCycles = 0.5): LrSchedule {
  return (step) => {
    if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
    const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return baseLr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

/**
 * Sets an optimizer's learning rate from a schedule. Call `step()` after each optimizer step, as
 * with PyTorch's LR schedulers.
 * @example
 * ```ts
 * const scheduler = new LrScheduler(optimizer, cosineSchedule(1e-4, 100, 10_000));
 * optimizer.step(); scheduler.step();
 * ```
 */
export class LrScheduler {
  readonly optimizer: Optimizer;
  readonly schedule: LrSchedule;
  lastStep = 0;

  constructor(optimizer: Optimizer, schedule: LrSchedule) {
    this.optimizer = optimizer;
    this.schedule = schedule;
    optimizer.lr = schedule(0);
  }

  step(): void {
    this.lastStep++;
    this.optimizer.lr = this.schedule(this.lastStep);
  }
}
