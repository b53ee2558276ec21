// groupNorm's default eps is PyTorch's 1e-5 (F.group_norm and nn.GroupNorm). The input's variance
// (5e-6) is of the order of eps, so the output tells eps = 1e-5 from 1e-6 or 1e-4 by far more than
// rounding; the expected values are worked out by hand below.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../../device/device.ts";
import { GroupNorm } from "../../nn/norms.ts";
import { tensor } from "../creation/creation.ts";
import { assertClose, testDevice } from "../../testing/mod.ts";
import { groupNorm } from "./group_norm.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

// One group of [0, 0.002, 0.004, 0.006]: μ = 0.003, σ² = (9 + 1 + 1 + 9)·1e-6 / 4 = 5e-6, and with
// eps = 1e-5, y = (x − μ)/√(1.5e-5) = ±0.001·{3, 1}/0.0038730 = ±{0.774597, 0.258199}.
const VALUES = [0, 0.002, 0.004, 0.006];
const WITH_DEFAULT_EPS = [-0.7745967, -0.2581989, 0.2581989, 0.7745967];

describe("groupNorm's default eps", () => {
  test("groupNorm() without options normalises with eps = 1e-5", async () => {
    const x = tensor(VALUES, [1, 2, 2]);
    const y = groupNorm(x, 1);
    assertClose(await y.toArray(), WITH_DEFAULT_EPS, { atol: 2e-4, rtol: 0 });
    // the same input with eps = 1e-6 is far from it (±1.2247, ±0.4082): the check can fail
    const other = groupNorm(x, 1, null, null, 1e-6);
    assert.ok(Math.abs((await other.toArray())[0]! - WITH_DEFAULT_EPS[0]!) > 0.3);
    for (const t of [x, y, other]) t.dispose();
  });

  test("nn GroupNorm without options normalises with eps = 1e-5", async () => {
    const norm = new GroupNorm(1, 2);
    const x = tensor(VALUES, [1, 2, 2]);
    const y = norm.forward(x);
    assertClose(await y.toArray(), WITH_DEFAULT_EPS, { atol: 2e-4, rtol: 0 });
    for (const t of [x, y]) t.dispose();
    norm.dispose();
  });
});
