// Runs the fast examples as a user would (child processes, public entries, from source) with small
// settings, and checks what each writes: a valid 16×16 PNG, LoRA and checkpoint files that parse as
// safetensors with the expected keys, and finite scores.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readSafetensorsFile } from "@spo/safetensors/node";

const run = promisify(execFile);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function runExample(name: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const { stdout } = await run(process.execPath, ["--conditions=@spo/source", "--import", "tsx", file, ...args], { timeout: timeoutMs });
  return stdout;
}

let out: string;
before(async () => {
  out = await mkdtemp(join(tmpdir(), "spo-examples-"));
});
after(async () => {
  await rm(out, { recursive: true, force: true });
});

test("lora_formats.ts writes kohya and diffusers LoRAs and a merged UNet that differs from the base", async () => {
  const folder = join(out, "lora");
  const stdout = await runExample("lora_formats", ["--out", folder]);
  assert.match(stdout, /loaded: format kohya: 96 of 96 tensors matched 32 modules/);
  await using kohya = await readSafetensorsFile(join(folder, "toy_kohya.safetensors"));
  assert.equal(kohya.names.length, 96);
  assert.ok(kohya.names.every((n) => n.startsWith("lora_unet_")));
  await using diffusers = await readSafetensorsFile(join(folder, "toy_diffusers.safetensors"));
  assert.equal(diffusers.names.length, 64); // down and up per module, alpha folded into up
  assert.ok(diffusers.names.every((n) => n.startsWith("unet.") && /\.lora\.(down|up)\.weight$/.test(n)));
  await using base = await readSafetensorsFile(join(folder, "unet_base_copy.safetensors"));
  await using merged = await readSafetensorsFile(join(folder, "unet_merged.safetensors"));
  assert.deepEqual([...merged.names].sort(), [...base.names].sort());
  const key = base.names.find((n) => n.endsWith("attn1.to_q.weight"))!;
  const [a, b] = [await base.tensor(key), await merged.tensor(key)];
  assert.deepEqual([a.dtype, b.dtype], ["F32", "F32"]);
  assert.notDeepEqual(b.data, a.data, `${key} changed by the merge`);
});

test("generate.ts writes a 16×16 PNG with a LoRA tag applied", async () => {
  const folder = join(out, "generate");
  const lora = join(out, "lora");
  const stdout = await runExample("generate", [
    "--steps",
    "3",
    "--seed",
    "7",
    "--out",
    folder,
    "--lora-dir",
    lora,
    "--prompt",
    "<lora:toy_kohya:0.8> a large red circle in the center on a white background",
  ]);
  assert.match(stdout, /LoRAs: toy_kohya:0\.8/);
  const png = await readFile(join(folder, "image-7.png"));
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  assert.equal(png.readUInt32BE(16), 16);
  assert.equal(png.readUInt32BE(20), 16);
});

test("score.ts writes a finite score per image and timestep", async () => {
  const folder = join(out, "score");
  await runExample("score", ["--timesteps", "900,0", "--out", folder]);
  const result = JSON.parse(await readFile(join(folder, "scores.json"), "utf8"));
  assert.deepEqual(
    result.timesteps.map((r: { t: number }) => r.t),
    [900, 0],
  );
  for (const row of result.timesteps) {
    assert.equal(row.scores.length, 3);
    assert.ok(row.scores.every(Number.isFinite));
  }
  // the exact reward ranks the correct rendering above the noisy one above the wrong scene
  const [good, noisy, wrong] = result.exactReward;
  assert.ok(good > noisy && noisy > wrong, JSON.stringify(result.exactReward));
});

test("train_spo.ts trains a LoRA on the toy model and saves it in kohya format", async () => {
  const folder = join(out, "train");
  const stdout = await runExample("train_spo", ["--prompts", "2", "--steps", "4", "--out", folder]);
  const losses = [...stdout.matchAll(/loss (\S+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.length > 0 && losses.every(Number.isFinite), stdout);
  assert.equal(losses[0]!.toFixed(4), "0.6931"); // the first update: policy = reference, loss ln 2
  await using lora = await readSafetensorsFile(join(folder, "spo_toy_kohya.safetensors"));
  assert.ok(lora.names.length > 0 && lora.names.every((n) => n.startsWith("lora_unet_")));
  const up = await lora.tensor(lora.names.find((n) => n.endsWith(".lora_up.weight"))!);
  assert.ok(
    up.data.some((byte: number) => byte !== 0),
    "the trained up-weights are no longer zero",
  );
});

test("custom_pipeline.ts samples pairs by hand with its own reward and trains a LoRA on them", async () => {
  const folder = join(out, "custom");
  const stdout = await runExample("custom_pipeline", ["--rounds", "1", "--steps", "4", "--out", folder]);
  const round = /round 0: mean final centre brightness (\S+), (\d+) pairs/.exec(stdout);
  assert.ok(round, stdout);
  assert.ok(Number.isFinite(Number(round[1])), stdout);
  // with pairs, one SPO update ran; its loss is ln 2 (the fresh LoRA's policy equals the reference)
  if (Number(round[2]) > 0) assert.match(stdout, /pairs, loss 0\.6931/);
  await using lora = await readSafetensorsFile(join(folder, "centre_kohya.safetensors"));
  assert.equal(lora.names.length, 96); // 32 attention projections × (down, up, alpha)
});

test("checkpoints.ts reads a .ckpt without running it and converts it; a file that asks for code is refused", async () => {
  const folder = join(out, "checkpoints");
  const stdout = await runExample("checkpoints", ["--out", folder]);
  assert.match(stdout, /zip format, 208 tensors/);
  assert.match(stdout, /plain value global_step = 150/);
  await using converted = await readSafetensorsFile(join(folder, "converted.safetensors"));
  assert.equal(converted.names.length, 208);
  assert.ok(converted.names.every((n) => n.startsWith("model.diffusion_model.")));
  const evil = fileURLToPath(new URL("../../packages/torch-checkpoint/test/fixtures/oracle/torch_evil_os_system.bin", import.meta.url));
  await assert.rejects(
    runExample("checkpoints", ["--in", evil, "--out", join(out, "evil")]),
    (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? "", /refused: .*posix\.system/);
      return true;
    },
  );
});

test("demo.ts checks the adapter, fine-tunes with SPO and writes the grid, the chart and summary.json into its folder", async () => {
  const folder = join(out, "demo");
  // 30 s on the shared machine under a load average of 14; the longer limit is for heavier load
  const args = ["--iterations", "1", "--eval-count", "2", "--steps", "3", "--scorer", "exact", "--out", folder];
  const stdout = await runExample("demo", args, 300_000);
  assert.match(stdout, /gelu\(0\.5·x \+ 1\) over 1048576 values: .* → verified/);
  assert.match(stdout, /matmul 512³: .* → verified/);
  assert.match(stdout, /before SPO {2}0\.\d{3} \(95 % CI/);
  assert.deepEqual((await readdir(folder)).sort(), [
    "lora.safetensors",
    "metrics.jsonl",
    "samples_before_after.png",
    "summary.json",
    "training_curves.svg",
  ]);
  const summary = JSON.parse(await readFile(join(folder, "summary.json"), "utf8"));
  assert.equal(summary.evaluationImages, 2);
  for (const key of ["before", "after"]) {
    const r = summary[key];
    assert.equal(r.n, 2);
    assert.ok(r.low <= r.mean && r.mean <= r.high && r.mean >= 0 && r.mean <= 1, JSON.stringify(r));
  }
  assert.ok(summary.wallSeconds > 0);
  assert.equal(summary.iterations, 1);
  assert.equal(summary.rewardsAfter.length, 2);
  const png = await readFile(join(folder, "samples_before_after.png"));
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  // 2 columns and 3 rows (before, after, ground truth) of 64-pixel cells with 2-pixel gutters
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [2 * 66 + 2, 3 * 66 + 2]);
  assert.match(await readFile(join(folder, "training_curves.svg"), "utf8"), /^<svg [^>]*>[\s\S]*loss[\s\S]*<\/svg>\n$/);
});

test("demo.ts refuses a folder that is not empty and a bad option before any work", async () => {
  const folder = join(out, "demo-busy");
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "keep.txt"), "mine");
  for (const args of [
    ["--out", folder],
    ["--iterations", "0", "--out", join(out, "demo-unused")],
    ["--scorer", "clip"],
    ["--model", join(out, "no-such-model"), "--out", join(out, "demo-unused")],
  ]) {
    await assert.rejects(runExample("demo", args), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2, args.join(" "));
      assert.match(error.stderr ?? "", /^demo: .*\n\nusage: npm run demo/);
      return true;
    });
  }
  assert.deepEqual(await readdir(folder), ["keep.txt"]);
});
