import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { tensor } from "../creation/creation.ts";
import { arbShape, fcRuns, testDevice } from "../../testing/mod.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import { runProgram } from "../run_op.ts";
import { MAX_SEED } from "./philox_reference.ts";
import { philoxWgsl } from "./philox_wgsl.ts";
import { makeRandom, rand, randn, randomBits, type RandomAttrs, randomOp } from "./random.ts";
import { RandomGenerator } from "./random_generator.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** The bits of values as f32 (what a f32 tensor holds), so comparisons are exact, -0 and all. */
function f32Bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

async function assertMatchesReference(attrs: RandomAttrs): Promise<void> {
  const gpu = makeRandom(attrs);
  const actual = await gpu.toArray();
  gpu.dispose();
  const expected = randomOp.reference([], attrs).data;
  const context = `${attrs.distribution} ${attrs.dtype} [${attrs.shape}] seed ${attrs.seed} offset ${attrs.offset}`;
  assert.equal(actual.length, expected.length, context);
  const actualBits = attrs.dtype === "u32" ? Uint32Array.from(actual) : f32Bits(actual);
  const expectedBits = attrs.dtype === "u32" ? Uint32Array.from(expected) : f32Bits(expected);
  const first = actualBits.findIndex((bits, i) => bits !== expectedBits[i]);
  assert.equal(first, -1, `${context}: element ${first} is ${actual[first]}, reference ${expected[first]}`);
}

const arbSeed = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: MAX_SEED }));
// offsets near 2^32 - 1 make the counter carry into its second word inside one tensor
const arbOffset = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 2 ** 32 - 300, max: 2 ** 32 + 10 }),
  fc.integer({ min: 0, max: 2 ** 52 }),
);

describe("random tensors on the GPU", () => {
  test("the WGSL philox() reproduces Random123's known answers", async () => {
    const cases = [
      [0, 0, 0, 0, 0, 0],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0],
    ];
    const expected = [
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ];
    const input = tensor(new Uint32Array(cases.flat()), [cases.length, 6]);
    const output = Tensor.empty([cases.length, 4], "u32", device);
    const params = new Params().u32("count", cases.length);
    runProgram(
      device,
      {
        key: "test_philox_known_answers",
        wgsl: () => `${params.struct()}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4u>;
${philoxWgsl()}
${linearMain(8)}
  if (index >= p.count) { return; }
  let b = index * 6u;
  y[index] = philox(vec4u(x[b], x[b + 1u], x[b + 2u], x[b + 3u]), vec2u(x[b + 4u], x[b + 5u]));
}`,
        params: params.pack(),
        workgroups: linearGrid(cases.length, 8),
      },
      [input.buffer],
      output.buffer,
    );
    assert.deepEqual([...(await output.toArray())], expected.flat());
    input.dispose();
    output.dispose();
  });

  for (const [distribution, dtype] of [
    ["bits", "u32"],
    ["uniform", "f32"],
    ["uniform", "f16"],
    ["normal", "f32"],
    ["normal", "f16"],
  ] as const) {
    test(`${distribution} ${dtype} tensors match the JS reference bit for bit on random shapes, seeds and offsets`, async () => {
      await fc.assert(
        fc.asyncProperty(arbShape({ maxRank: 4, maxSize: 6000 }), arbSeed, arbOffset, async (shape, seed, offset) => {
          await assertMatchesReference({ shape, distribution, dtype, seed, offset });
        }),
        { numRuns: fcRuns(16) },
      );
    });
  }

  test("tensors filled window by window (as above the 128 MiB binding limit) match the reference bit for bit", async () => {
    for (const [distribution, dtype] of [
      ["bits", "u32"],
      ["uniform", "f16"],
      ["normal", "f32"],
      ["normal", "f16"],
    ] as const) {
      for (const size of [257, 1000, 2049]) {
        const attrs: RandomAttrs = { shape: [size], distribution, dtype, seed: 2 ** 33 + 1, offset: 2 ** 32 - 150 };
        const windowed = makeRandom(attrs, device, 1024);
        const expected = randomOp.reference([], attrs).data;
        const actual = await windowed.toArray();
        windowed.dispose();
        const convert = dtype === "u32" ? Uint32Array.from.bind(Uint32Array) : f32Bits;
        assert.deepEqual(convert(actual), convert(expected), `${distribution} ${dtype} [${size}]`);
      }
    }
  });

  test("a randn tensor larger than one storage binding continues the stream across the window edge", { timeout: 30_000 }, async () => {
    // lavapipe's binding limit is 128 MiB; adapters with a larger one get the same 128 MiB windows
    const windowBytes = Math.min(device.limits.maxStorageBufferBindingSize, 2 ** 27);
    const windowElements = windowBytes / 4;
    const size = windowElements + 1000;
    const big = makeRandom({ shape: [size], distribution: "normal", dtype: "f32", seed: 3, offset: 5 }, device, windowBytes);
    const values = await big.toArray();
    big.dispose();
    // the 1008 elements around the edge, and the tail, computed on their own from their offset
    for (const start of [windowElements - 8, size - 16]) {
      const count = Math.min(1008, size - start);
      const expected = randomOp.reference([], {
        shape: [count],
        distribution: "normal",
        dtype: "f32",
        seed: 3,
        offset: 5 + start / 4,
      }).data;
      assert.deepEqual(f32Bits(values.subarray(start, start + count)), f32Bits(expected), `elements from ${start}`);
    }
  });

  test("randomBits() with seed 0 at offset 0 starts with Philox(counter 0, key 0)", async () => {
    const words = randomBits([4], { seed: 0 });
    assert.deepEqual([...(await words.toArray())], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    words.dispose();
  });

  test("the values depend on the element count, not on the shape", async () => {
    for (const make of [rand, randn] as const) {
      const flat = make([60], { seed: 5, offset: 3 });
      const shaped = make([3, 4, 5], { seed: 5, offset: 3 });
      assert.deepEqual(f32Bits(await shaped.toArray()), f32Bits(await flat.toArray()));
      flat.dispose();
      shaped.dispose();
    }
  });

  test("offset k continues the stream 4k elements later", async () => {
    const whole = randn([41], { seed: 77 });
    const later = randn([21], { seed: 77, offset: 5 });
    assert.deepEqual(f32Bits(await later.toArray()), f32Bits((await whole.toArray()).subarray(20)));
    whole.dispose();
    later.dispose();
  });

  test("RandomGenerator advances its offset by ⌈n/4⌉ blocks per draw and replays from a saved state", async () => {
    const generator = new RandomGenerator(2 ** 40 + 3);
    const first = generator.randn([2, 3]);
    assert.equal(generator.offset, 2);
    const state = generator.getState();
    const second = generator.rand([5]);
    const third = generator.randn([7]);
    assert.deepEqual(generator.getState(), { seed: 2 ** 40 + 3, offset: 6 });
    const direct = randn([6], { seed: 2 ** 40 + 3, offset: 0 });
    assert.deepEqual(f32Bits(await first.toArray()), f32Bits(await direct.toArray()));
    generator.setState(state);
    const replayed = generator.rand([5]);
    assert.deepEqual(f32Bits(await replayed.toArray()), f32Bits(await second.toArray()));
    const afterReplay = generator.randn([7]);
    assert.deepEqual(f32Bits(await afterReplay.toArray()), f32Bits(await third.toArray()));
    generator.manualSeed(9);
    assert.deepEqual(generator.getState(), { seed: 9, offset: 0 });
    [first, second, third, direct, replayed, afterReplay].forEach((t) => t.dispose());
  });

  test("empty and 0-d shapes give empty and one-element tensors", async () => {
    const empty = rand([3, 0], { seed: 1 });
    assert.deepEqual(empty.shape, [3, 0]);
    assert.equal((await empty.toArray()).length, 0);
    const single = randn([], { seed: 1 });
    const reference = randomOp.reference([], { shape: [], distribution: "normal", dtype: "f32", seed: 1, offset: 0 });
    assert.deepEqual(f32Bits(await single.toArray()), f32Bits(reference.data));
    empty.dispose();
    single.dispose();
  });

  test("without options (or a seed) each call draws fresh numbers, as torch.randn does without manual_seed", async () => {
    const a = randn([2]);
    const b = rand([3], {});
    const c = randn([2], { dtype: "f16" });
    const d = randn([2]);
    assert.deepEqual([a.shape, b.shape, c.shape, c.dtype], [[2], [3], [2], "f16"]);
    const [va, vd] = [await a.toArray(), await d.toArray()];
    assert.ok([...va, ...vd].every(Number.isFinite));
    assert.notDeepEqual(Array.from(va), Array.from(vd));
    for (const t of [a, b, c, d]) t.dispose();
  });

  test("bad seeds, offsets, dtypes and shapes throw before any GPU work", () => {
    const buffersBefore = device.memory().liveBuffers;
    assert.throws(() => rand([2], { seed: -1 }), /Cannot run rand with seed -1: it must be an integer in \[0, 2\^53\)/);
    assert.throws(() => randn([2], { seed: 0.5 }), RangeError);
    assert.throws(() => rand([2], { seed: 2 ** 53 }), RangeError);
    assert.throws(() => rand([2], { seed: 1, offset: -4 }), /Cannot run rand at offset -4/);
    assert.throws(() => randn([2], { seed: 1, offset: 1.5 }), RangeError);
    assert.throws(() => rand([2], { seed: 1, dtype: "i32" }), DTypeError);
    assert.throws(() => randn([2], { seed: 1, dtype: "u32" }), /Cannot run randn with dtype u32: it makes f32 or f16/);
    assert.throws(() => rand([2, -1], { seed: 1 }), ShapeError);
    assert.throws(() => new RandomGenerator(-3), /Cannot seed a RandomGenerator with -3/);
    assert.throws(() => new RandomGenerator(1, { offset: MAX_SEED }).rand([8]), /offset would pass 2\^53/);
    assert.equal(device.memory().liveBuffers, buffersBefore);
  });
});
