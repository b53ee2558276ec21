import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { UnsupportedConfigError } from "../autoencoder_kl/vae_config.ts";
import { fixtureCase } from "../test/_fixture_weights.ts";
import { TAESD, TAESDDecoder, TAESDEncoder } from "./taesd.ts";
import { taesdConfigFromJson } from "./taesd_config.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const shapesOf = (model: { namedParameters(): Iterable<[string, { shape: readonly number[] }]> }) =>
  new Map([...model.namedParameters()].map(([name, t]) => [name, [...t.shape]]));

describe("TAESD structure", () => {
  test("the SD TAESD has 67 + 67 tensors, 1,222,532 encoder and 1,222,531 decoder parameters", () => {
    const taesd = TAESD.fromConfig({}, { init: "meta" });
    assert.equal([...taesd.encoder.namedParameters()].length, 67);
    assert.equal([...taesd.decoder.namedParameters()].length, 67);
    assert.equal(taesd.encoder.parameterCount(), 1_222_532);
    assert.equal(taesd.decoder.parameterCount(), 1_222_531);
  });

  test("parameter names and shapes are exactly the taesd_encoder / taesd_decoder checkpoint keys", () => {
    const { weights } = fixtureCase("taesd_random");
    const taesd = TAESD.fromConfig({}, { init: "meta" });
    assert.deepEqual(shapesOf(taesd), new Map([...weights].map(([name, t]) => [name, t.shape])));
  });

  test("latent_channels sets the first decoder and last encoder convolutions (TAESD3 / TAEF1: 16)", () => {
    const shapes = shapesOf(TAESD.fromConfig({ latent_channels: 16 }, { init: "meta" }));
    assert.deepEqual(shapes.get("encoder.14.weight"), [16, 64, 3, 3]);
    assert.deepEqual(shapes.get("decoder.1.weight"), [64, 16, 3, 3]);
  });

  test("the f32 variant follows taesd.py's F32Encoder / F32Decoder indices", () => {
    const config = taesdConfigFromJson({ latent_channels: 32, arch_variant: "f32" });
    const encoder = shapesOf(new TAESDEncoder(config, { init: "meta" }));
    const decoder = shapesOf(new TAESDDecoder(config, { init: "meta" }));
    assert.deepEqual(encoder.get("0.weight"), [32, 3, 3, 3]);
    assert.deepEqual(encoder.get("2.weight"), [64, 32, 3, 3]);
    assert.deepEqual(encoder.get("4.conv.0.weight"), [64, 64, 3, 3]);
    assert.equal(encoder.has("5.bias"), false);
    assert.deepEqual(encoder.get("17.weight"), [32, 64, 3, 3]);
    assert.deepEqual(decoder.get("1.weight"), [256, 32, 3, 3]);
    assert.deepEqual(decoder.get("3.conv.4.weight"), [256, 256, 3, 3]);
    assert.deepEqual(decoder.get("7.weight"), [128, 256, 3, 3]);
    assert.deepEqual(decoder.get("12.weight"), [64, 128, 3, 3]);
    assert.deepEqual(decoder.get("28.conv.0.weight"), [64, 64, 3, 3]);
    assert.deepEqual(decoder.get("29.weight"), [3, 64, 3, 3]);
  });

  test("unsupported variants and AutoencoderTiny layouts are rejected by name", () => {
    assert.throws(
      () => taesdConfigFromJson({ arch_variant: "flux_2" }),
      (e: unknown) => e instanceof UnsupportedConfigError && /arch_variant = "flux_2"/.test(e.message),
    );
    assert.throws(() => taesdConfigFromJson({ num_encoder_blocks: [1, 2, 2, 2] }), /num_encoder_blocks/);
    assert.equal(
      taesdConfigFromJson({ _class_name: "AutoencoderTiny", act_fn: "relu", latent_channels: 4, scaling_factor: 1 }).latentChannels,
      4,
    );
  });
});

describe("TAESD forward", () => {
  test("scaleLatents and unscaleLatents are taesd.py's x/6 + 0.5 (clamped to [0, 1]) and its inverse", async () => {
    const taesd = TAESD.fromConfig({}, { init: "meta" });
    const raw = tensor([-4, -3, 0, 1.5, 3, 9]);
    assertClose(await taesd.scaleLatents(raw).toArray(), [0, 0, 0.5, 0.75, 1, 1], { atol: 1e-7, rtol: 0 });
    assertClose(await taesd.unscaleLatents(tensor([0, 0.25, 1])).toArray(), [-3, -1.5, 3], { atol: 1e-6, rtol: 0 });
  });

  test("the encoder downsamples 8× and the decoder upsamples 8×, freeing every intermediate", async () => {
    const taesd = TAESD.fromConfig({}, { seed: 1 }).requiresGrad_(false);
    const image = tensor(new Float32Array(3 * 24 * 16), [1, 3, 24, 16]);
    const before = device.memory().liveBytes;
    const latent = taesd.encode(image);
    const decoded = taesd.decode(latent);
    assert.deepEqual(latent.shape, [1, 4, 3, 2]);
    assert.deepEqual(decoded.shape, [1, 3, 24, 16]);
    await decoded.toArray();
    latent.dispose();
    decoded.dispose();
    assert.equal(device.memory().liveBytes, before);
    assert.throws(() => taesd.decode(tensor(new Float32Array(3 * 4), [1, 3, 2, 2])), /expected \[batch, 4, height, width\]/);
    taesd.dispose();
  });
});
