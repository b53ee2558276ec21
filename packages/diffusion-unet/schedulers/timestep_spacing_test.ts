import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { arangeFloat, f32, linspace, roundHalfEven, torchLinspaceF32 } from "./_numpy.ts";
import {
  checkTimesteps,
  discreteTimesteps,
  dpmSolverTimesteps,
  eulerTimesteps,
  type SpacingOptions,
  type TimestepSpacing,
} from "./timestep_spacing.ts";

const SPACINGS: TimestepSpacing[] = ["leading", "trailing", "linspace"];
const arbOptions = fc.record({
  spacing: fc.constantFrom(...SPACINGS),
  numTrainTimesteps: fc.oneof(fc.constant(1000), fc.integer({ min: 2, max: 1200 })),
  stepsOffset: fc.constantFrom(0, 1),
});

/**
 * Either a RangeError, or `count` values inside [0, T) (integers unless `isFloat`), strictly
 * decreasing unless `mayRepeat`.
 */
function assertValidOrRejected(make: () => number[], count: number, options: SpacingOptions, isFloat: boolean, mayRepeat = false): void {
  let timesteps: number[];
  try {
    timesteps = make();
    checkTimesteps("test", timesteps, count, options);
  } catch (error) {
    assert.ok(error instanceof RangeError, String(error));
    return;
  }
  assert.equal(timesteps.length, count);
  for (const [i, t] of timesteps.entries()) {
    assert.ok(t >= 0 && t < options.numTrainTimesteps, `timestep ${t} outside [0, ${options.numTrainTimesteps})`);
    if (!isFloat) assert.ok(Number.isInteger(t), `timestep ${t} is not an integer`);
    if (i > 0)
      assert.ok(mayRepeat ? t <= timesteps[i - 1] : t < timesteps[i - 1], `timesteps not decreasing at ${i}: ${timesteps[i - 1]}, ${t}`);
  }
}

describe("timestep spacing", () => {
  test("DDIM/DDPM timesteps are strictly decreasing integers inside [0, T), or the count is rejected", () => {
    fc.assert(
      fc.property(arbOptions, fc.integer({ min: 1, max: 1200 }), (options, wanted) => {
        const count = Math.min(wanted, options.numTrainTimesteps);
        assertValidOrRejected(() => discreteTimesteps(count, options), count, options, false);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  test("Euler timesteps are strictly decreasing inside [0, T), or the count is rejected", () => {
    fc.assert(
      fc.property(arbOptions, fc.integer({ min: 1, max: 1200 }), (options, wanted) => {
        const count = Math.min(wanted, options.numTrainTimesteps);
        assertValidOrRejected(() => eulerTimesteps(count, options), count, options, true);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  test("DPM-Solver timesteps are non-increasing integers inside [0, T), strictly decreasing below T steps, or the count is rejected", () => {
    fc.assert(
      fc.property(arbOptions, fc.integer({ min: 1, max: 1200 }), (options, wanted) => {
        const count = Math.min(wanted, options.numTrainTimesteps);
        const make = () => dpmSolverTimesteps(count, { ...options, lastTimestep: options.numTrainTimesteps });
        // n + 1 linspace points over [0, T − 1] repeat a timestep only when n ≥ T − 1
        assertValidOrRejected(make, count, options, false, count >= options.numTrainTimesteps - 1);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  test("leading spacing with steps_offset 1 gives SD1.5's DDIM timesteps", () => {
    const options: SpacingOptions = { spacing: "leading", numTrainTimesteps: 1000, stepsOffset: 1 };
    const fifty = discreteTimesteps(50, options);
    assert.deepEqual([fifty[0], fifty[1], fifty.at(-2), fifty.at(-1)], [981, 961, 21, 1]);
    assert.deepEqual(discreteTimesteps(4, options), [751, 501, 251, 1]);
  });

  test("trailing and linspace spacings end and start where Table 2 of arXiv 2305.08891 says", () => {
    const base = { numTrainTimesteps: 1000, stepsOffset: 0 };
    assert.deepEqual(discreteTimesteps(10, { ...base, spacing: "trailing" }), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    // linspace(0, 999, 5) = 0, 249.75, 499.5, 749.25, 999; 499.5 rounds to the even 500
    assert.deepEqual(discreteTimesteps(5, { ...base, spacing: "linspace" }), [999, 749, 500, 250, 0]);
    assert.deepEqual(eulerTimesteps(3, { ...base, spacing: "linspace" }), [999, 499.5, 0]);
  });

  test("trailing spacing with 61 steps is rejected because numpy's arange yields 62 values", () => {
    const options: SpacingOptions = { spacing: "trailing", numTrainTimesteps: 1000, stepsOffset: 0 };
    assert.equal(arangeFloat(1000, 0, -1000 / 61).length, 62);
    assert.throws(() => checkTimesteps("DDIMScheduler", discreteTimesteps(61, options), 61, options), /61 "trailing" timesteps/);
  });

  test("a step count above num_train_timesteps is rejected", () => {
    assert.throws(() => discreteTimesteps(1001, { spacing: "leading", numTrainTimesteps: 1000, stepsOffset: 0 }), /1001 inference steps/);
  });
});

describe("numpy and torch number routines", () => {
  test("roundHalfEven rounds ties to the even neighbour like numpy.round", () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3]);
  });

  test("linspace ends exactly at stop and steps evenly", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.integer({ min: 2, max: 500 }),
        (a, b, n) => {
          const values = linspace(a, b, n);
          assert.equal(values.length, n);
          assert.ok(values[0] === a && values[n - 1] === b, `ends ${values[0]}, ${values[n - 1]}`);
          const step = (b - a) / (n - 1);
          values.forEach((v, i) => assert.ok(Math.abs(v - (a + i * step)) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b))));
        },
      ),
      { numRuns: fcRuns(100) },
    );
  });

  test("torchLinspaceF32 is monotone, hits both ends and stays within 2 float32 ulps of the exact line", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-5, max: 1, noNaN: true }),
        fc.double({ min: 1e-5, max: 1, noNaN: true }),
        fc.integer({ min: 2, max: 2000 }),
        (a, b, n) => {
          const [start, end] = a < b ? [a, b] : [b, a];
          const values = torchLinspaceF32(start, end, n);
          assert.equal(values[0], f32(start));
          assert.equal(values[n - 1], f32(end));
          const exactStep = (f32(end) - f32(start)) / (n - 1);
          for (let i = 0; i < n; i++) {
            if (i > 0) assert.ok(values[i] >= values[i - 1], `not monotone at ${i}`);
            const exact = f32(start) + i * exactStep;
            assert.ok(Math.abs(values[i] - exact) <= 2 * 2 ** -23 * Math.abs(exact) + 1e-12, `value ${i}: ${values[i]} vs ${exact}`);
          }
        },
      ),
      { numRuns: fcRuns(100) },
    );
  });
});
