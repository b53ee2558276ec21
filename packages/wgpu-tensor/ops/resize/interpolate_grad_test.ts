import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { checkGradients } from "../../autograd/grad_check.ts";
import type { Device } from "../../device/device.ts";
import { fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { resizeOp } from "./interpolate.ts";
import { type ResizeMode, resolveResize } from "./resize_options.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("interpolate gradients match finite differences of the f64 reference", () => {
  for (const mode of ["nearest", "nearest-exact", "bilinear", "bicubic"] as const satisfies readonly ResizeMode[]) {
    test(`interpolate() ${mode} gradient, up and down`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(
            fc.integer({ min: 1, max: 7 }),
            fc.integer({ min: 1, max: 7 }),
            fc.integer({ min: 1, max: 9 }),
            fc.integer({ min: 1, max: 9 }),
          ),
          fc.boolean(),
          fc.integer(),
          async ([inH, inW, outH, outW], alignCorners, seed) => {
            const shape = [1, 2, inH, inW];
            const isInterpolating = mode === "bilinear" || mode === "bicubic";
            const attrs = resolveResize("interpolate", shape, {
              size: [outH, outW],
              mode,
              alignCorners: isInterpolating ? alignCorners : undefined,
            });
            // each input pixel gathers at most ~(4 taps · 9 outputs)² weighted terms
            await checkGradients(resizeOp, [randomHost(shape, seed)], attrs, { tolerance: toleranceFor("f32", 256, 4) });
          },
        ),
        { numRuns: fcRuns(4) },
      );
    });
  }
});
