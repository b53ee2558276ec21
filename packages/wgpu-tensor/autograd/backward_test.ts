import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../device/device.ts";
import { tidy } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { elementwiseOps } from "../ops/elementwise/elementwise_ops.ts";
import { add, exp, mul, sub } from "../ops/elementwise/elementwise_ops.ts";
import { sumToShape } from "../ops/reduce/sum_to_shape.ts";
import { arbBroadcastPair, arbShape, fcRuns, randomHost, testDevice, toleranceFor } from "../testing/mod.ts";
import { backward, detach, releaseGraph } from "./backward.ts";
import { checkGradients } from "./grad_check.ts";
import { noGrad } from "./grad_mode.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const total = (x: ReturnType<typeof tensor>) => sumToShape(x, []);

/** Input ranges away from kinks and poles, so central differences are accurate. */
const domains: Record<string, [number, number]> = {
  log: [0.5, 3],
  sqrt: [0.5, 3],
  rsqrt: [0.5, 3],
  reciprocal: [0.5, 3],
  pow: [0.5, 2],
  abs: [0.2, 2],
  relu: [0.2, 2],
};

describe("autograd", () => {
  test("backward() of Σ w² gives 2w", async () => {
    const w = tensor([2, -3, 0.5]);
    w.requiresGrad = true;
    backward(total(mul(w, w)));
    assert.deepEqual(Array.from(await w.grad!.toArray()), [4, -6, 1]);
    w.dispose();
  });

  test("a tensor used twice accumulates both gradients", async () => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    backward(total(add(mul(x, x), x))); // d/dx (x² + x) = 2x + 1
    assert.deepEqual(Array.from(await x.grad!.toArray()), [3, 5, 7]);
    backward(total(mul(x, 2))); // .grad accumulates across backward calls
    assert.deepEqual(Array.from(await x.grad!.toArray()), [5, 7, 9]);
    x.dispose();
  });

  test("gradients of broadcast inputs are summed back to their shapes", async () => {
    const a = tensor([[1], [2], [3]]);
    const b = tensor([10, 20, 30, 40]);
    a.requiresGrad = true;
    b.requiresGrad = true;
    backward(total(mul(a, b)));
    assert.deepEqual(Array.from(await a.grad!.toArray()), [100, 100, 100]);
    assert.deepEqual(Array.from(await b.grad!.toArray()), [6, 6, 6, 6]);
    a.dispose();
    b.dispose();
  });

  test("noGrad() and detach() record nothing", () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    const y = noGrad(() => mul(x, 3));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradNode, null);
    const z = mul(detach(x), 3);
    assert.equal(z.requiresGrad, false);
    [x, y, z].forEach((t) => t.dispose());
  });

  test("backward() frees the graph, so a second backward through it is refused", () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    const loss = total(exp(x));
    backward(loss);
    assert.throws(() => backward(loss), /a second time: its graph was freed/);
    loss.dispose();
    x.dispose();
  });

  test("after backward and disposal, live bytes return to the parameters' size", async () => {
    const w = tensor(Array.from({ length: 4096 }, (_, i) => Math.sin(i)));
    w.requiresGrad = true;
    const parameterBytes = device.memory().liveBytes;
    const loss = tidy(() => total(mul(exp(sub(w, 1)), add(w, 2))));
    backward(loss);
    loss.dispose();
    await device.sync();
    const withGrad = device.memory().liveBytes;
    w.grad!.dispose();
    w.grad = null;
    assert.ok(withGrad > parameterBytes);
    assert.equal(device.memory().liveBytes, parameterBytes);
    w.dispose();
  });

  test("releaseGraph() frees what an abandoned forward pass saved", async () => {
    const w = tensor(Array.from({ length: 1024 }, () => 1));
    w.requiresGrad = true;
    const before = device.memory().liveBytes;
    const y = tidy(() => exp(mul(w, w)));
    releaseGraph(y);
    y.dispose();
    assert.equal(device.memory().liveBytes, before);
    w.dispose();
  });

  test("backward() without a gradient is refused for non-scalar outputs", () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    const y = mul(x, 2);
    assert.throws(() => backward(y), /only one-element tensors get an implicit gradient/);
    releaseGraph(y);
    [x, y].forEach((t) => t.dispose());
  });
});

describe("elementwise gradients match finite differences of the f64 reference", () => {
  const differentiable = Object.entries(elementwiseOps).filter(([, def]) => def.backward !== "notDifferentiable");
  for (const [name, def] of differentiable) {
    const arity =
      ({ where: 3, clamp: 3 } as Record<string, number>)[name] ??
      (name in { add: 1, sub: 1, mul: 1, div: 1, pow: 1, maximum: 1, minimum: 1 } ? 2 : 1);
    test(`${name}() gradient`, async () => {
      const [low, high] = domains[name] ?? [-2, 2];
      await fc.assert(
        fc.asyncProperty(
          arity === 1
            ? arbShape({ maxRank: 3, maxDim: 6 }).map((s) => [s, s] as [number[], number[]])
            : arbBroadcastPair({ maxRank: 3, maxDim: 5 }),
          fc.integer(),
          async ([shapeA, shapeB], seed) => {
            // tolerance: f32 rounding of the GPU gradient (a few ulps of terms up to ~e²) with
            // O(h²)≈1e-10 truncation; broadcast sums over ≤ 125 terms add √K growth
            const tolerance = toleranceFor("f32", 125, 64);
            if (name === "where") {
              const condition = randomHost(shapeA, seed, { low: -1, high: 1 });
              condition.data.forEach((v, i) => (condition.data[i] = v > 0 ? 1 : 0));
              await checkGradients(
                def,
                [condition, randomHost(shapeB, seed + 1), randomHost(shapeA, seed + 2)],
                { scalars: [null, null, null] },
                { wrt: [1, 2], tolerance },
              );
              return;
            }
            if (name === "clamp") {
              // keep values away from the clamp edges, where the derivative jumps
              const x = randomHost(shapeA, seed, { low: -2, high: 2 });
              x.data.forEach((v, i) => (x.data[i] = Math.abs(Math.abs(v) - 1) < 0.05 ? v * 0.5 : v));
              await checkGradients(def, [x], { scalars: [null, -1, 1] }, { tolerance });
              return;
            }
            const a = randomHost(shapeA, seed, { low, high });
            if (arity === 1) {
              await checkGradients(def, [a], { scalars: [null] }, { tolerance });
              return;
            }
            const b = randomHost(shapeB, seed + 1, { low: name === "div" ? 0.5 : low, high });
            if (name === "maximum" || name === "minimum") b.data.forEach((v, i) => (b.data[i] = v + 0.01)); // no exact ties
            await checkGradients(def, [a, b], { scalars: [null, null] }, { tolerance });
          },
        ),
        { numRuns: fcRuns(3) },
      );
    });
  }
});
