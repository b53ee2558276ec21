import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, randn, ShapeError, type Tensor, tensor, zeros } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { AutoencoderKL } from "./autoencoder_kl.ts";
import { DiagonalGaussianDistribution } from "./diagonal_gaussian.ts";
import { autoencoderKLConfigFromDiffusers, SD15_VAE_CONFIG, UnsupportedConfigError } from "./vae_config.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** SD1.5's VAE tensors and shapes, enumerated from the research notes (§2.2, §2.3). */
function sd15VaeShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const conv = (name: string, out: number, inp: number, k: number) => {
    shapes.set(`${name}.weight`, [out, inp, k, k]);
    shapes.set(`${name}.bias`, [out]);
  };
  const norm = (name: string, c: number) => {
    shapes.set(`${name}.weight`, [c]);
    shapes.set(`${name}.bias`, [c]);
  };
  const resnet = (name: string, inp: number, out: number) => {
    norm(`${name}.norm1`, inp);
    conv(`${name}.conv1`, out, inp, 3);
    norm(`${name}.norm2`, out);
    conv(`${name}.conv2`, out, out, 3);
    if (inp !== out) conv(`${name}.conv_shortcut`, out, inp, 1);
  };
  const mid = (name: string) => {
    resnet(`${name}.resnets.0`, 512, 512);
    resnet(`${name}.resnets.1`, 512, 512);
    norm(`${name}.attentions.0.group_norm`, 512);
    for (const p of ["to_q", "to_k", "to_v", "to_out.0"]) {
      shapes.set(`${name}.attentions.0.${p}.weight`, [512, 512]);
      shapes.set(`${name}.attentions.0.${p}.bias`, [512]);
    }
  };
  conv("encoder.conv_in", 128, 3, 3);
  const down = [
    [128, 128],
    [128, 256],
    [256, 512],
    [512, 512],
  ];
  down.forEach(([inp, out], i) => {
    resnet(`encoder.down_blocks.${i}.resnets.0`, inp, out);
    resnet(`encoder.down_blocks.${i}.resnets.1`, out, out);
    if (i < 3) conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, out, out, 3);
  });
  mid("encoder.mid_block");
  norm("encoder.conv_norm_out", 512);
  conv("encoder.conv_out", 8, 512, 3);
  conv("quant_conv", 8, 8, 1);
  conv("post_quant_conv", 4, 4, 1);
  conv("decoder.conv_in", 512, 4, 3);
  mid("decoder.mid_block");
  const up = [
    [512, 512],
    [512, 512],
    [512, 256],
    [256, 128],
  ];
  up.forEach(([inp, out], i) => {
    resnet(`decoder.up_blocks.${i}.resnets.0`, inp, out);
    resnet(`decoder.up_blocks.${i}.resnets.1`, out, out);
    resnet(`decoder.up_blocks.${i}.resnets.2`, out, out);
    if (i < 3) conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, out, out, 3);
  });
  norm("decoder.conv_norm_out", 128);
  conv("decoder.conv_out", 3, 128, 3);
  return shapes;
}

describe("AutoencoderKL structure", () => {
  test("SD1.5's VAE builds shape-only with 248 tensors and 83,653,863 parameters", () => {
    const before = device.memory().liveBytes;
    const vae = AutoencoderKL.fromConfig(SD15_VAE_CONFIG, { init: "meta" });
    const named = [...vae.namedParameters()];
    assert.equal(named.length, 248);
    assert.equal(vae.parameterCount(), 83_653_863);
    assert.equal(vae.encoder.parameterCount(), 34_163_592);
    assert.equal(vae.decoder.parameterCount(), 49_490_179);
    assert.deepEqual(new Map(named.map(([name, t]) => [name, [...t.shape]])), sd15VaeShapes());
    assert.equal(device.memory().liveBytes, before, "a shape-only model allocates nothing");
  });

  test("mid_block_add_attention and use_quant_conv switch their layers off", () => {
    const vae = AutoencoderKL.fromConfig({ ...SD15_VAE_CONFIG, mid_block_add_attention: false, use_quant_conv: false }, { init: "meta" });
    const names = [...vae.namedParameters()].map(([name]) => name);
    assert.equal(
      names.some((n) => n.includes("attentions")),
      false,
    );
    assert.equal(
      names.some((n) => n.startsWith("quant_conv")),
      false,
    );
    assert.ok(names.includes("post_quant_conv.weight"));
  });

  test("unsupported configuration values are rejected by name", () => {
    const reject = (json: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(
        () => autoencoderKLConfigFromDiffusers(json),
        (e: unknown) => e instanceof UnsupportedConfigError && pattern.test(e.message),
      );
    reject({ ...SD15_VAE_CONFIG, act_fn: "gelu" }, /act_fn = "gelu"/);
    reject({ ...SD15_VAE_CONFIG, down_block_types: ["DownEncoderBlock2D"] }, /down_block_types/);
    reject({ ...SD15_VAE_CONFIG, norm_type: "spatial" }, /norm_type = "spatial"/);
    reject({ ...SD15_VAE_CONFIG, norm_num_groups: 48 }, /not divisible by norm_num_groups 48/);
  });

  test("inputs with the wrong channel count are refused before any GPU work", () => {
    const vae = AutoencoderKL.fromConfig({ block_out_channels: [32, 64] }, { init: "meta" });
    assert.throws(
      () => vae.encode(zeros([1, 4, 16, 16])),
      (e: unknown) => e instanceof ShapeError && /\[batch, 3, height, width\]/.test(e.message),
    );
    assert.throws(() => vae.decode(zeros([1, 3, 8, 8])), ShapeError);
  });
});

describe("DiagonalGaussianDistribution", () => {
  test("splits mean and clamped log-variance and samples mean + exp(logvar/2)·noise", async () => {
    const values = [0.5, -1, 2, 3, /* logvar */ -40, 0, 25, -2];
    const posterior = new DiagonalGaussianDistribution(tensor(values, [1, 2, 2, 2]));
    assert.deepEqual([...(await posterior.mean.toArray())], [0.5, -1, 2, 3]);
    assert.deepEqual([...(await posterior.logvar.toArray())], [-30, 0, 20, -2]);
    const std = [-30, 0, 20, -2].map((v) => Math.exp(v / 2));
    assertClose(await posterior.std.toArray(), std, { atol: 0, rtol: 1e-6 });
    const noise = [1, -2, 0.5, 3];
    const sample = await posterior.sample(tensor(noise, [1, 1, 2, 2])).toArray();
    assertClose(
      sample,
      [0.5, -1, 2, 3].map((m, i) => m + std[i] * noise[i]),
      { atol: 1e-6, rtol: 1e-5 },
    );
    assert.throws(() => posterior.sample(zeros([1, 2, 2, 2])), ShapeError);
    posterior.dispose();
  });
});

describe("AutoencoderKL memory", () => {
  test("encode, decode and forward free every intermediate (captures and outputs are the caller's)", async () => {
    const vae = AutoencoderKL.fromConfig({ block_out_channels: [32, 64], layers_per_block: 1 }, { seed: 4 }).requiresGrad_(false);
    const image = randn([1, 3, 16, 16], { seed: 1 });
    const latents = randn([1, 4, 8, 8], { seed: 2 });
    const before = device.memory().liveBytes;
    const capture = new Map<string, Tensor>();
    const posterior = vae.encode(image, { capture });
    const sample = posterior.sample({ seed: 3 });
    const decoded = vae.decode(latents, { capture });
    const roundTrip = vae.forward(image, { noise: { seed: 5 } });
    await roundTrip.toArray();
    assert.deepEqual([...capture.keys()].sort(), ["encoder_out", "post_quant_conv_out"]);
    posterior.dispose();
    for (const t of [sample, decoded, roundTrip, ...capture.values()]) t.dispose();
    assert.equal(device.memory().liveBytes, before);
    vae.dispose();
  });
});
