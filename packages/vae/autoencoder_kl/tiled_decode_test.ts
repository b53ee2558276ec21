import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, narrow, randn, tidy } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { AutoencoderKL } from "./autoencoder_kl.ts";
import { decodeWithinLimit, largestDecodeActivationBytes, tiledDecode, tileLatentSizeWithin } from "./tiled_decode.ts";
import { autoencoderKLConfigFromDiffusers, SD15_VAE_CONFIG } from "./vae_config.ts";

/** A 3-level VAE (scale factor 4) small enough to decode many tiles quickly. */
const TINY_VAE = {
  _class_name: "AutoencoderKL",
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [8, 16, 16],
  layers_per_block: 1,
  latent_channels: 4,
  norm_num_groups: 8,
  sample_size: 32,
};

let device: Device;
let vae: AutoencoderKL;
before(async () => {
  device = await testDevice();
  vae = AutoencoderKL.fromConfig(TINY_VAE);
});
after(() => {
  vae?.dispose();
  device?.destroy();
});

interface HostImage {
  shape: [number, number, number, number];
  data: Float64Array;
}

async function toHost(t: ReturnType<typeof randn>): Promise<HostImage> {
  const data = Float64Array.from((await t.toArray()) as Float32Array);
  t.dispose();
  return { shape: t.shape as [number, number, number, number], data };
}

/**
 * diffusers' tiled_decode on the host, from tiles decoded one by one: blend with the tile above
 * and to the left (already blended), crop, and place. Written from the algorithm, independently
 * of tiled_decode.ts.
 */
async function referenceTiledDecode(z: ReturnType<typeof randn>, tileLatent: number, overlap: number): Promise<HostImage> {
  const factor = 4;
  const [, , h, w] = z.shape;
  const stride = Math.floor(tileLatent * (1 - overlap));
  const extent = Math.floor(tileLatent * factor * overlap);
  const limit = tileLatent * factor - extent;
  const rows: HostImage[][] = [];
  for (let i = 0; i < h!; i += stride) {
    const row: HostImage[] = [];
    for (let j = 0; j < w!; j += stride) {
      const tile = tidy(() => vae.decode(narrow(narrow(z, 2, i, Math.min(tileLatent, h! - i)), 3, j, Math.min(tileLatent, w! - j))));
      row.push(await toHost(tile));
    }
    rows.push(row);
  }
  const at = (img: HostImage, c: number, y: number, x: number) => (c * img.shape[2] + y) * img.shape[3] + x;
  const blend = (a: HostImage, b: HostImage, axis: 2 | 3) => {
    const size = Math.min(a.shape[axis], b.shape[axis], extent);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < b.shape[2]; y++) {
        for (let x = 0; x < b.shape[3]; x++) {
          const t = axis === 2 ? y : x;
          if (t >= size) continue;
          const from = axis === 2 ? at(a, c, a.shape[2] - size + y, x) : at(a, c, y, a.shape[3] - size + x);
          b.data[at(b, c, y, x)] = a.data[from]! * (1 - t / size) + b.data[at(b, c, y, x)]! * (t / size);
        }
      }
    }
  };
  const outH = h! * factor;
  const outW = w! * factor;
  const out: HostImage = { shape: [1, 3, outH, outW], data: new Float64Array(3 * outH * outW) };
  let top = 0;
  for (let i = 0; i < rows.length; i++) {
    let left = 0;
    let rowHeight = 0;
    for (let j = 0; j < rows[i]!.length; j++) {
      const tile = rows[i]![j]!;
      if (i > 0) blend(rows[i - 1]![j]!, tile, 2);
      if (j > 0) blend(rows[i]![j - 1]!, tile, 3);
      const th = Math.min(limit, tile.shape[2]);
      const tw = Math.min(limit, tile.shape[3]);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < th; y++)
          for (let x = 0; x < tw; x++) out.data[(c * outH + top + y) * outW + left + x] = tile.data[at(tile, c, y, x)]!;
      left += tw;
      rowHeight = th;
    }
    assert.equal(left, outW, "the cropped tiles of a row cover the width");
    top += rowHeight;
  }
  assert.equal(top, outH, "the rows cover the height");
  return out;
}

describe("tiled VAE decoding", () => {
  test("SD1.5's 512×512 decode needs a 256 MiB feature map; 40-latent tiles keep it under 128 MiB", () => {
    const sd15 = autoencoderKLConfigFromDiffusers(SD15_VAE_CONFIG);
    assert.equal(largestDecodeActivationBytes(sd15, 1, 64, 64), 256 * 512 * 512 * 4);
    assert.equal(largestDecodeActivationBytes(sd15, 2, 64, 64), 2 * 256 * 512 * 512 * 4);
    assert.equal(tileLatentSizeWithin(sd15, 128 * 2 ** 20), 40);
    assert.equal(tileLatentSizeWithin(sd15, 1000), null);
  });

  test("one tile covering the latents is the plain decode", async () => {
    const z = randn([1, 4, 8, 6], { seed: 1 });
    const plain = await toHost(vae.decode(z));
    // tiles start every floor(16 · 0.75) = 12 latent pixels: one tile, cropped to 48 ≥ 32 pixels
    const tiled = await toHost(tiledDecode(vae, z, { tileLatentSize: 16 }));
    assert.deepEqual(tiled.data, plain.data);
    z.dispose();
  });

  for (const [h, w, tile, overlap] of [
    [12, 12, 8, 0.25],
    [13, 9, 6, 0.5],
    [10, 7, 4, 0],
  ] as const) {
    test(`${h}×${w} latents in tiles of ${tile} (overlap ${overlap}) match diffusers' algorithm on the host`, async () => {
      const z = randn([1, 4, h, w], { seed: h * 100 + w });
      const expected = await referenceTiledDecode(z, tile, overlap);
      const actual = await toHost(tiledDecode(vae, z, { tileLatentSize: tile, overlap }));
      assert.deepEqual(actual.shape, [1, 3, h * 4, w * 4]);
      assertClose(Float32Array.from(actual.data), Float32Array.from(expected.data), { atol: 1e-5, rtol: 1e-5 });
      z.dispose();
    });
  }

  test("decodeWithinLimit decodes whole, per image, or per image in tiles, by what fits", async () => {
    const z = randn([2, 4, 12, 12], { seed: 5 });
    const oneImage = largestDecodeActivationBytes(vae.config, 1, 12, 12);
    const plain = await toHost(vae.decode(z));
    assert.deepEqual((await toHost(decodeWithinLimit(vae, z, 2 * oneImage))).data, plain.data);
    // one image at a time: the same numbers (the decoder treats batch elements independently)
    assertClose(Float32Array.from((await toHost(decodeWithinLimit(vae, z, oneImage))).data), Float32Array.from(plain.data), {
      atol: 1e-6,
      rtol: 1e-6,
    });
    // below one image: tiles of the largest size that fits
    const tile = tileLatentSizeWithin(vae.config, oneImage - 1)!;
    assert.ok(tile >= 8 && tile < 12);
    const tiled = await toHost(decodeWithinLimit(vae, z, oneImage - 1));
    const second = await toHost(tiledDecode(vae, narrow(z, 0, 1, 1), { tileLatentSize: tile }));
    assert.deepEqual(tiled.data.subarray(tiled.data.length / 2), second.data);
    assert.throws(() => decodeWithinLimit(vae, z, 64), /even 8×8-latent tiles need more than 64 bytes/);
    z.dispose();
  });

  test("an f16 VAE's tiles are sized for 2-byte values: what fits in f16 is decoded whole", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    const sd15 = autoencoderKLConfigFromDiffusers(SD15_VAE_CONFIG);
    assert.equal(largestDecodeActivationBytes(sd15, 1, 64, 64, 2), 128 * 2 ** 20, "SD1.5's 512×512 decode fits 128 MiB in f16");
    assert.equal(tileLatentSizeWithin(sd15, 64 * 2 ** 20, 2), 40);
    const half = AutoencoderKL.fromConfig(TINY_VAE, { dtype: "f16" });
    const z = randn([1, 4, 12, 12], { seed: 6 });
    const inHalf = largestDecodeActivationBytes(half.config, 1, 12, 12, 2);
    const plain = await toHost(half.decode(z));
    // a limit between the f16 and the f32 size of the largest map: whole in f16 (tiles would differ)
    assert.deepEqual((await toHost(decodeWithinLimit(half, z, inHalf))).data, plain.data);
    // SD1.5 in f16 at a 64 MiB limit: 40-latent tiles (4-byte sizing gives 32)
    assert.equal(tileLatentSizeWithin(sd15, 64 * 2 ** 20), 32);
    z.dispose();
    half.dispose();
  });
});
