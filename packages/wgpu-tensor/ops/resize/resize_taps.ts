import type { ResizeMode } from "./resize_options.ts";

/** Source indices and weights one output coordinate reads on one axis. */
export interface Taps {
  index: number[];
  weight: number[];
}

/** PyTorch's bicubic constant (Keys kernel, as in OpenCV). */
export const CUBIC_A = -0.75;

/** Keys' kernel for |x| ≤ 1. */
export function cubicNear(x: number): number {
  return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
}

/** Keys' kernel for 1 < |x| < 2. */
export function cubicFar(x: number): number {
  return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
}

const f = Math.fround;

/**
 * PyTorch's `area_pixel_compute_source_index` in f32: half-pixel centres (or corners), clamped at
 * 0 for linear modes only.
 */
function sourceCoordinate(o: number, scale: number, alignCorners: boolean, isCubic: boolean): number {
  if (alignCorners) return f(scale * o);
  const real = f(f(scale * f(o + 0.5)) - 0.5);
  return !isCubic && real < 0 ? 0 : real;
}

/**
 * The taps of output coordinate `o` on an axis of `inSize` → `outSize` with source scale `scale`,
 * exactly as PyTorch's CPU kernels pick them (the WGSL in resize_kernel.ts is the same code):
 * - nearest: ⌊o · scale⌋ (capped at in−1), copying when out = in and halving when out = 2·in;
 * - nearest-exact: ⌊(o + ½) · scale⌋;
 * - bilinear: the two neighbours of the source coordinate, weights 1−λ and λ (copy when out = in);
 * - bicubic: four neighbours ⌊s⌋−1 … ⌊s⌋+2 clamped to the border, Keys weights with A = −0.75.
 */
export function axisTaps(mode: ResizeMode, o: number, inSize: number, outSize: number, scale: number, alignCorners: boolean): Taps {
  switch (mode) {
    case "nearest": {
      let index: number;
      if (outSize === inSize) index = o;
      else if (outSize === 2 * inSize) index = o >> 1;
      else index = Math.min(Math.floor(f(o * scale)), inSize - 1);
      return { index: [index], weight: [1] };
    }
    case "nearest-exact":
      return { index: [Math.min(Math.floor(f((o + 0.5) * scale)), inSize - 1)], weight: [1] };
    case "bilinear": {
      if (outSize === inSize) return { index: [o, o], weight: [1, 0] };
      const real = sourceCoordinate(o, scale, alignCorners, false);
      const i0 = Math.min(Math.floor(real), inSize - 1);
      const lambda = Math.min(Math.max(f(real - i0), 0), 1);
      const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
      return { index: [i0, i1], weight: [f(1 - lambda), lambda] };
    }
    case "bicubic": {
      const real = sourceCoordinate(o, scale, alignCorners, true);
      const floor = Math.floor(real);
      const t = f(real - floor);
      const clampIndex = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
      return {
        index: [clampIndex(floor - 1), clampIndex(floor), clampIndex(floor + 1), clampIndex(floor + 2)],
        weight: [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(1 - t + 1)],
      };
    }
  }
}
