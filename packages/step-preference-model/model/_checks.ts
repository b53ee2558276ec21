import { SpmInputError } from "../errors.ts";
import { MAX_TIMESTEP } from "./spm_config.ts";

/** Checks `timesteps` holds `batch` finite numbers in [0, 999] (before anything is dispatched). */
export function checkTimesteps(timesteps: readonly number[], batch: number): void {
  if (!Array.isArray(timesteps) && !ArrayBuffer.isView(timesteps)) {
    throw new SpmInputError("timesteps", `Cannot score: timesteps must be an array of numbers, got ${typeof timesteps}`);
  }
  if (timesteps.length !== batch) {
    throw new SpmInputError("timesteps", `Cannot score: timesteps has ${timesteps.length} entries, the images ${batch}`);
  }
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > MAX_TIMESTEP) {
      throw new SpmInputError("timesteps", `Cannot score: timesteps[${i}] = ${t}, expected a number in [0, ${MAX_TIMESTEP}]`);
    }
  }
}
