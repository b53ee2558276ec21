// Statistical checks of the GPU generator on 2^20 samples. Bounds are 5 standard errors (a correct
// generator fails one with probability ~6e-7) or Kolmogorov–Smirnov critical values at α = 0.001.
// Seeds are fixed, so a result never changes between runs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../../device/device.ts";
import { testDevice } from "../../testing/mod.ts";
import { rand, randn, randomBits } from "./random.ts";

const N = 2 ** 20;
const Z = 5;

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

async function sample(make: typeof rand | typeof randn, seed: number, offset = 0, size = N): Promise<Float64Array> {
  const t = make([size], { seed, offset });
  const values = Float64Array.from(await t.toArray());
  t.dispose();
  return values;
}

function moments(x: Float64Array): { mean: number; variance: number; skewness: number; kurtosis: number } {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const v of x) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= x.length;
  m3 /= x.length;
  m4 /= x.length;
  return { mean, variance: m2, skewness: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/** Kolmogorov–Smirnov statistic of a sample against a continuous CDF. */
function ksStatistic(x: Float64Array, cdf: (v: number) => number): number {
  const sorted = Float64Array.from(x).sort();
  let d = 0;
  for (let i = 0; i < sorted.length; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, (i + 1) / sorted.length - f, f - i / sorted.length);
  }
  return d;
}

/** Asymptotic KS critical value: P(√n·D > c) = α for c = √(−ln(α/2)/2) (1.9495 at α = 0.001). */
function ksCritical(n: number, alpha = 0.001): number {
  return Math.sqrt(-Math.log(alpha / 2) / 2) / Math.sqrt(n);
}

/** Standard normal CDF through erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>, count: number): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < count; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= count;
  mb /= count;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < count; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function assertWithin(value: number, expected: number, standardError: number, what: string): void {
  assert.ok(Math.abs(value - expected) <= Z * standardError, `${what}: ${value}, expected ${expected} ± ${Z}·${standardError}`);
}

describe("random tensor statistics", () => {
  test("rand() has the mean and variance of the uniform 2^-24 grid within 5 standard errors", async () => {
    const x = await sample(rand, 20240601);
    const { mean, variance } = moments(x);
    // values k·2^-24, k uniform on 0 … 2^24 − 1: mean (1 − 2^-24)/2, variance (1 − 2^-48)/12, 4th central moment ≈ 1/80
    assertWithin(mean, (1 - 2 ** -24) / 2, Math.sqrt(1 / 12 / N), "mean");
    assertWithin(variance, (1 - 2 ** -48) / 12, Math.sqrt((1 / 80 - 1 / 144) / N), "variance");
  });

  test("rand() passes a Kolmogorov–Smirnov test against U(0, 1) at α = 0.001", async () => {
    const x = await sample(rand, 7, 123456789);
    const d = ksStatistic(x, (v) => Math.min(Math.max(v, 0), 1));
    assert.ok(d < ksCritical(N), `D = ${d}, critical ${ksCritical(N)}`);
  });

  test("rand() values lie on the 2^-24 grid in [0, 1) and each of their 24 bits is unbiased", async () => {
    const x = await sample(rand, 99);
    const ones = new Array<number>(24).fill(0);
    for (const v of x) {
      const k = v * 2 ** 24;
      assert.ok(Number.isInteger(k) && k >= 0 && k < 2 ** 24, `${v} is off the grid`);
      for (let bit = 0; bit < 24; bit++) ones[bit] += (k >>> bit) & 1;
    }
    ones.forEach((count, bit) => assertWithin(count / N, 0.5, 0.5 / Math.sqrt(N), `frequency of bit ${bit}`));
  });

  test("each of the 32 bits of randomBits() is set half the time", async () => {
    const words = randomBits([N], { seed: 31337 });
    const values = await words.toArray();
    words.dispose();
    for (let bit = 0; bit < 32; bit++) {
      let count = 0;
      for (const w of values) count += (w >>> bit) & 1;
      assertWithin(count / N, 0.5, 0.5 / Math.sqrt(N), `frequency of bit ${bit}`);
    }
  });

  test("randn() has mean 0, variance 1, skewness 0 and kurtosis 3 within 5 standard errors", async () => {
    const z = await sample(randn, 424242);
    const { mean, variance, skewness, kurtosis } = moments(z);
    assertWithin(mean, 0, Math.sqrt(1 / N), "mean");
    assertWithin(variance, 1, Math.sqrt(2 / N), "variance");
    assertWithin(skewness, 0, Math.sqrt(6 / N), "skewness");
    assertWithin(kurtosis, 3, Math.sqrt(24 / N), "kurtosis");
  });

  test("randn() passes a Kolmogorov–Smirnov test against N(0, 1) at α = 0.001", async () => {
    const z = await sample(randn, 11, 2 ** 33);
    const d = ksStatistic(z, normalCdf);
    assert.ok(d < ksCritical(N), `D = ${d}, critical ${ksCritical(N)}`);
  });

  test("randn() puts the normal share of samples beyond 3σ, and each pair's r²/2 is Exp(1)", async () => {
    const z = await sample(randn, 5150);
    let beyond = 0;
    for (const v of z) beyond += Math.abs(v) > 3 ? 1 : 0;
    const p = 2 * (1 - normalCdf(3));
    assertWithin(beyond / N, p, Math.sqrt((p * (1 - p)) / N), "share beyond 3σ");
    const halfSquaredRadius = new Float64Array(N / 2);
    for (let k = 0; k < N / 2; k++) halfSquaredRadius[k] = (z[2 * k] ** 2 + z[2 * k + 1] ** 2) / 2;
    const d = ksStatistic(halfSquaredRadius, (v) => 1 - Math.exp(-v));
    assert.ok(d < ksCritical(N / 2), `D = ${d}, critical ${ksCritical(N / 2)}`);
  });

  test("streams of different seeds, seed high words and offsets, and neighbours within a stream, are uncorrelated", async () => {
    const base = await sample(randn, 1);
    const pairs: [string, Float64Array, Float64Array][] = [
      ["seeds 1 and 2", base, await sample(randn, 2)],
      ["seeds 1 and 1 + 2^32", base, await sample(randn, 1 + 2 ** 32)],
      ["offsets 0 and 2^20", base, await sample(randn, 1, 2 ** 20)],
      ["elements i and i + 1", base, base.subarray(1)],
      ["elements i and i + 4 (next block)", base, base.subarray(4)],
      ["rand seeds 3 and 4", await sample(rand, 3), await sample(rand, 4)],
    ];
    for (const [what, a, b] of pairs) {
      const count = Math.min(a.length, b.length);
      assertWithin(correlation(a, b, count), 0, 1 / Math.sqrt(count), `correlation of ${what}`);
    }
  });
});
