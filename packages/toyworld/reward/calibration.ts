import { renderScene } from "../world/render.ts";
import { BACKGROUNDS, COLOURS, SHAPES, type Shape, type Size } from "../world/vocabulary.ts";
import { colourMembership } from "./membership.ts";
import { refinedFit } from "./templates.ts";

/** What the fit finds on an exact rendering of one object: its fitted side and its shape margin. */
export interface FitCalibration {
  /** Side (fraction of the image) the best fit of the right shape reports. */
  side: number;
  /** Dice of the right shape minus the best Dice of another shape (at least 0.01). */
  margin: number;
}

const cache = new Map<string, FitCalibration>();

/**
 * The fit's answer on an unjittered rendering of a red `shape` of `size` in the centre of a gray
 * image. At 16 pixels the template grid (sizes 10 % apart, half-pixel centres) and the few pixels
 * of a small shape make the fitted side differ from the drawn one and the margin between shapes
 * small; the reward compares an image's fit with this answer instead of with the nominal numbers.
 */
export function fitCalibration(shape: Shape, size: Size, imageSize: number): FitCalibration {
  const key = `${shape}/${size}/${imageSize}`;
  const known = cache.get(key);
  if (known) return known;
  const image = renderScene(
    { kind: "single", object: { shape, size, colour: "red" }, position: "in the center", background: "gray" },
    { size: imageSize, jitter: false },
  );
  const plane = imageSize * imageSize;
  const membership = colourMembership(
    image.map((v) => (v + 1) / 2),
    plane,
    COLOURS.red,
    BACKGROUNDS.gray,
  );
  const fits = SHAPES.map((s) => refinedFit(membership, s, imageSize));
  const named = fits[SHAPES.indexOf(shape)]!;
  const other = Math.max(...fits.filter((_, i) => SHAPES[i] !== shape).map((f) => f.dice));
  const calibration = { side: named.template.side, margin: Math.max(0.01, named.dice - other) };
  cache.set(key, calibration);
  return calibration;
}
