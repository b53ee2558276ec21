import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { writeTinyModel } from "../test/_tiny_model_node.ts";
import { main } from "./spo_node.ts";

let folder: string;
let work: string;

before(async () => {
  const device = await testDevice();
  folder = await writeTinyModel();
  device.destroy();
  work = await mkdtemp(join(tmpdir(), "spo-cli-failures-"));
});

after(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs `spo` in this process and collects what it prints. */
async function spo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), isTTY: false });
  return { code, stdout, stderr };
}

/** Asserts a failure printed as exactly one line naming the problem, with a non-zero exit code. */
async function assertOneLineFailure(args: string[], code: number, message: RegExp): Promise<void> {
  const result = await spo(args);
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^spo generate: /);
  assert.match(lines[0]!, message);
}

const generate = (...extra: string[]) => [
  "generate",
  "--model",
  folder,
  "--prompt",
  "a cat",
  "--steps",
  "1",
  "--width",
  "16",
  "--height",
  "16",
  "--out",
  join(work, "out.png"),
  ...extra,
];

describe("spo generate fails with one clear line", () => {
  test("for prompt syntax errors and bad <lora:…> tags, before loading the model", async () => {
    const missingModel = ["generate", "--model", join(work, "no-model"), "--out", join(work, "x.png")];
    await assertOneLineFailure(
      [...missingModel, "--prompt", "(a:1.2.3)"],
      2,
      /Cannot parse the prompt "\(a:1\.2\.3\)": the weight "1\.2\.3" is not a number/,
    );
    await assertOneLineFailure(
      [...missingModel, "--prompt", "<lora:x:abc> a cat"],
      2,
      /Cannot read <lora:x:abc>: the te multiplier "abc" is not a number/,
    );
    await assertOneLineFailure(
      [...missingModel, "--prompt", "a cat", "--negative", "(b:1.2.3)"],
      2,
      /the weight "1\.2\.3" is not a number/,
    );
    await assertOneLineFailure([...missingModel, "--prompt", "<lora:x:nan> a cat"], 2, /the te multiplier "nan" is not a finite number/);
  });

  test("for a missing --lora-dir, a LoRA it lacks and a corrupt LoRA file, before loading the model", async () => {
    const missingModel = ["generate", "--model", join(work, "no-model"), "--out", join(work, "x.png")];
    await assertOneLineFailure(
      [...missingModel, "--prompt", "<lora:x:1> a", "--lora-dir", "/no/such"],
      1,
      /Cannot use --lora-dir "\/no\/such": the folder does not exist/,
    );
    const loras = join(work, "loras");
    await mkdir(loras, { recursive: true });
    await writeFile(join(loras, "broken.safetensors"), new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123, 34]));
    await assertOneLineFailure(
      [...missingModel, "--prompt", "<lora:absent:1> a", "--lora-dir", loras],
      1,
      /no LoRA named "absent" was found/,
    );
    await assertOneLineFailure(
      [...missingModel, "--prompt", "<lora:broken:1> a", "--lora-dir", loras],
      1,
      /Cannot read LoRA "broken" \(.*broken\.safetensors\): .*header length 200 runs past the end of the file/,
    );
  });

  test("for a model folder that does not exist or is a file", async () => {
    await assertOneLineFailure(
      ["generate", "--model", join(work, "no-model"), "--prompt", "a", "--out", join(work, "x.png")],
      1,
      /Cannot load a Stable Diffusion model from ".*no-model": the folder does not exist$/,
    );
    await writeFile(join(work, "model.safetensors"), "");
    await assertOneLineFailure(
      ["generate", "--model", join(work, "model.safetensors"), "--prompt", "a", "--out", join(work, "x.png")],
      1,
      /: it is not a folder \(give a diffusers folder/,
    );
  });

  test("for an unreachable or silent model URL", async () => {
    await assertOneLineFailure(
      ["generate", "--model", "http://127.0.0.1:9/sd/", "--prompt", "a", "--out", join(work, "x.png")],
      1,
      /Cannot load a Stable Diffusion model from "http:\/\/127\.0\.0\.1:9\/sd\/": cannot reach http:\/\/127\.0\.0\.1:9\/sd\/.* \(fetch failed/,
    );
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/sd/`;
      await assertOneLineFailure(
        ["generate", "--model", url, "--prompt", "a", "--out", join(work, "x.png"), "--timeout", "0.3"],
        1,
        /cannot reach .* \(no answer for 300 ms\)/,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("for an --out in a missing folder, in a read-only place or naming a folder, before loading the model", async () => {
    const missingModel = ["generate", "--model", join(work, "no-model"), "--prompt", "a"];
    await assertOneLineFailure(
      [...missingModel, "--out", join(work, "nope", "x.png")],
      1,
      /Cannot write --out ".*nope\/x\.png": the folder ".*nope" does not exist/,
    );
    await assertOneLineFailure(
      [...missingModel, "--out", "/sys/spo-test.png"],
      1,
      /Cannot write --out "\/sys\/spo-test\.png": .*(permission denied|EACCES)/i,
    );
    await assertOneLineFailure([...missingModel, "--out", work], 1, /Cannot write --out ".*": it is a folder/);
  });

  test("for numbers out of range, before loading the model", async () => {
    const missingModel = ["generate", "--model", join(work, "no-model"), "--prompt", "a", "--out", join(work, "x.png")];
    const cases: [string[], RegExp][] = [
      [["--width", "30"], /--width must be a multiple of 8 from 8 to 8192, got "30"/],
      [["--height", "8.0"], /--height must be a multiple of 8 from 8 to 8192, got "8\.0"/],
      [["--steps", "0"], /--steps must be an integer from 1 to 1000, got "0"/],
      [["--steps", "1e3"], /--steps must be an integer from 1 to 1000, got "1e3"/],
      [["--seed", "-1"], /--seed must be an integer from 0 to 9007199254740990, got "-1"/],
      [["--seed", "1e20"], /--seed must be an integer from 0 to/],
      [["--clip-skip", "0"], /--clip-skip must be an integer from 1 to 12, got "0"/],
      [["--batch", ""], /--batch must be an integer from 1 to 64, got ""/],
      [["--cfg", ""], /--cfg must be a number from 0 to 100, got ""/],
      [["--cfg", "1e308"], /--cfg must be a number from 0 to 100, got "1e308"/],
      [["--cfg", "nan"], /--cfg must be a number from 0 to 100, got "nan"/],
      [["--cfg", "0x10"], /--cfg must be a number from 0 to 100, got "0x10"/],
    ];
    for (const [flags, message] of cases) await assertOneLineFailure([...missingModel, ...flags], 2, message);
  });

  test("for a clip skip the model's text encoder cannot take, before loading its weights", async () => {
    await assertOneLineFailure(generate("--clip-skip", "3"), 2, /--clip-skip 3 is more than the text encoder's 2 layers/);
  });
});

test("spo generate prints the summary line of each LoRA's load report", async () => {
  const loras = join(work, "good-loras");
  await mkdir(loras, { recursive: true });
  const { writeTinyLora } = await import("../test/_tiny_lora_node.ts");
  await writeTinyLora(folder, join(loras, "style.safetensors"));
  const result = await spo(generate("--prompt", "<lora:style:0.5> a cat", "--lora-dir", loras));
  assert.equal(result.code, 0, result.stderr);
  // 40 adapted layers (8 in the text encoder's 2 layers, 32 in the UNet's attentions), each with down, up and alpha
  assert.match(
    result.stderr,
    /^LoRA style: format kohya: 120 of 120 tensors matched 40 modules \(text_encoder 8, unet 32\), 5248 parameters$/m,
  );
});

test("spo lora fails with one line for a file that does not exist", async () => {
  const result = await spo(["lora", "convert", join(work, "absent.safetensors"), join(work, "out.safetensors"), "--to", "kohya"]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^spo lora: Cannot open safetensors file ".*absent\.safetensors": ENOENT: no such file or directory, open '.*'\n$/,
  );
});
