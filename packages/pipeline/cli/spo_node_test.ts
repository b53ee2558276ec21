import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { writeTinyModel } from "../test/_tiny_model_node.ts";
import { toGenerateCommand, UsageError } from "./args.ts";
import { progressLine } from "./progress.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("./spo_node.ts", import.meta.url));
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let folder: string;
let outDir: string;

before(async () => {
  // the model is written with a device of this process; the CLI makes its own
  const device: Device = await testDevice();
  folder = await writeTinyModel();
  device.destroy();
  outDir = await mkdtemp(join(tmpdir(), "spo-cli-"));
});

after(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function spo(args: string[]) {
  return run(process.execPath, ["--conditions=@spo/source", "--import", "tsx", CLI, ...args], { encoding: "utf8" });
}

describe("spo generate", () => {
  test("writes a PNG of the requested size from a model folder and draws a progress bar", async () => {
    const out = join(outDir, "image.png");
    const { stderr } = await spo([
      "generate",
      "--model",
      folder,
      "--prompt",
      "a (red:1.2) cat",
      "--steps",
      "2",
      "--cfg",
      "4",
      "--seed",
      "5",
      "--scheduler",
      "dpmpp_2m",
      "--width",
      "32",
      "--height",
      "24",
      "--out",
      out,
    ]);
    const png = await readFile(out);
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.equal(png.readUInt32BE(16), 32); // IHDR width
    assert.equal(png.readUInt32BE(20), 24); // IHDR height
    assert.match(stderr, /sampling \[#+\] 2\/2/);
    assert.match(stderr, /wrote .*image\.png \(32×24, seed 5\)/);
  });

  test("applies <lora:…> tags from --lora-dir, names a LoRA it cannot find, and says when tags are ignored", async () => {
    const loraDir = await mkdtemp(join(tmpdir(), "spo-cli-loras-"));
    try {
      const args = [
        "generate",
        "--model",
        folder,
        "--prompt",
        "<lora:absent:0.7> a cat",
        "--steps",
        "1",
        "--width",
        "32",
        "--height",
        "32",
        "--out",
        join(outDir, "lora.png"),
      ];
      const failure = await spo([...args, "--lora-dir", loraDir]).then(
        () => null,
        (error) => error as { code: number; stderr: string },
      );
      assert.ok(failure, "the command should fail");
      assert.equal(failure.code, 1);
      assert.match(failure.stderr, /no LoRA named "absent"/);
      const { stderr } = await spo(args);
      assert.match(stderr, /LoRA tags absent \(te 0\.7, unet 0\.7\) ignored: give --lora-dir/);
    } finally {
      await rm(loraDir, { recursive: true, force: true });
    }
  });

  test("names the missing file of an incomplete model folder and exits with 1", async () => {
    await unlink(join(folder, "unet", "config.json"));
    const failure = await spo(["generate", "--model", folder, "--prompt", "a"]).then(
      () => null,
      (error) => error as { code: number; stderr: string },
    );
    assert.ok(failure, "the command should fail");
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /missing unet\/config\.json/);
  });
});

describe("toGenerateCommand", () => {
  test("applies the defaults and rejects bad values by option name", () => {
    const command = toGenerateCommand({ model: "/m", prompt: "a cat" });
    assert.deepEqual([command.steps, command.cfg, command.seed, command.scheduler, command.out], [20, 5, 42, "ddim", "image.png"]);
    assert.throws(() => toGenerateCommand({ prompt: "a" }), UsageError);
    assert.throws(() => toGenerateCommand({ model: "/m", prompt: "a", steps: "0" }), /--steps must be an integer from 1 to 1000/);
    assert.throws(() => toGenerateCommand({ model: "/m", prompt: "a", scheduler: "pndm" }), /--scheduler must be one of/);
  });

  test("progressLine fills the bar in proportion", () => {
    assert.equal(progressLine("s", 1, 4, 8, 2), "s [##------] 1/4 2.00 s/it");
    assert.equal(progressLine("s", 0, 4, 4, 0), "s [----] 0/4");
  });
});

test("spo lora convert writes a kohya file from SPO's diffusers layout", () => {
  const out = join(mkdtempSync(join(tmpdir(), "spo-lora-")), "kohya.safetensors");
  const input = fileURLToPath(new URL("../../lora/test/fixtures/oracle/unet_lora.lora.safetensors", import.meta.url));
  const result = spawnSync(
    process.execPath,
    [
      "--conditions=@spo/source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./spo_node.ts", import.meta.url)),
      "lora",
      "convert",
      input,
      out,
      "--to",
      "kohya",
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /96 of 96 tensors matched/);
  const keys = Object.keys(
    JSON.parse(
      readFileSync(out)
        .subarray(8, 8 + Number(readFileSync(out).readBigUInt64LE(0)))
        .toString("utf8"),
    ),
  );
  assert.ok(
    keys.some((k) => k.startsWith("lora_unet_") && k.endsWith(".lora_down.weight")),
    keys.slice(0, 3).join(", "),
  );
});
