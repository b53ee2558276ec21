// `spo train` end to end on a tiny random Stable Diffusion folder: usage errors before any model is
// loaded, a one-epoch run that leaves the run folder (checkpoint, metrics, chart, validation PNG,
// the final LoRA in SPO's diffusers format), and `--resume` of a finished run.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseSafetensors } from "@spo/safetensors";
import { writeTinyModel } from "../../pipeline/test/_tiny_model_node.ts";
import { parseMetricsLines } from "../metrics/update_metrics.ts";
import { parsePromptFile } from "./prompt_file.ts";
import { toTrainCommand } from "./train_args.ts";
import { main } from "./spo_node.ts";
import { runTrainCommand } from "./train_command_node.ts";

const root = mkdtempSync(join(tmpdir(), "spo-train-cli-"));
let model: string;
before(async () => {
  const { Device } = await import("@spo/wgpu-tensor");
  const device = await Device.create();
  model = await writeTinyModel();
  device.destroy();
});
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(model, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTty: false }, out, err };
}

describe("spo train", () => {
  it("reads SPO's caption lists and plain text prompt files", () => {
    assert.deepEqual(parsePromptFile('[{"caption": "a cat", "trainset_idx": 3}, "a dog"]'), ["a cat", "a dog"]);
    assert.deepEqual(parsePromptFile("a cat\r\n\n  a dog  \n"), ["a cat", "a dog"]);
    assert.throws(() => parsePromptFile("[1]"), /item 0/);
    assert.throws(() => parsePromptFile("  "), /empty/);
  });

  it("takes every setting from the config file or a flag, flags winning, and names bad ones", () => {
    const command = toTrainCommand(
      { model: "/m", prompts: "p.txt", scorer: "brightness", out: "runs/a", epochs: 3, poolSize: 3 },
      { "pool-size": "2", "learning-rate": "1e-4", greedy: true },
    );
    assert.deepEqual(command.settings, { epochs: 3, poolSize: 2, learningRate: 1e-4, greedy: true });
    assert.throws(() => toTrainCommand({ model: "/m", out: "o", prompts: "p", scorer: "s", epoch: 1 }, {}), /unknown key "epoch"/);
    assert.throws(
      () => toTrainCommand({}, { model: "/m", out: "o", prompts: "p", scorer: "s", "learning-rate": "fast" }),
      /--learning-rate must be a number/,
    );
    assert.throws(() => toTrainCommand({}, { model: "/m", out: "o", scorer: "s" }), /needs prompts/);
    assert.throws(() => toTrainCommand({}, { model: "/m", out: "o", method: "diffusion-dpo" }), /needs offline pairs/);
  });

  it("dispatches train, convert and the pipeline's commands", async () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      assert.equal(await main(["train", "--help"]), 0);
      assert.equal(await main(["convert", "--help"]), 0);
      assert.equal(await main(["generate", "--help"]), 0);
    } finally {
      process.stdout.write = original;
    }
    const text = written.join("");
    assert.match(text, /Usage: spo train/);
    assert.match(text, /spo convert <in\.ckpt/);
    assert.match(text, /Usage: spo generate/);
  });

  it("exits 2 with the usage on a bad flag, before loading anything", async () => {
    const { io, err } = capture();
    assert.equal(await runTrainCommand(["--model", join(root, "missing"), "--out", join(root, "x"), "--pool-size", "1"], io), 2);
    assert.match(err.join(""), /poolSize is 1[\s\S]*Usage: spo train/);
  });

  it("trains a LoRA in a run folder and resumes a finished run", async () => {
    const prompts = join(root, "prompts.txt");
    writeFileSync(prompts, "a red fox\na blue bird\na green tree\n");
    const config = join(root, "spo.json");
    const runDir = join(root, "run");
    writeFileSync(
      config,
      JSON.stringify({
        model,
        prompts,
        scorer: "brightness",
        out: runDir,
        epochs: 1,
        sampleBatchSize: 2,
        steps: 3,
        divertStartStep: 1,
        poolSize: 2,
        threshold: 0,
        validationCount: 1,
      }),
    );
    const { io, err } = capture();
    assert.equal(await runTrainCommand(["--config", config], io), 0, err.join(""));
    for (const file of [
      "lora.safetensors",
      "metrics.jsonl",
      "metrics.svg",
      "config.json",
      "command.json",
      "checkpoints/latest.json",
      "validation/epoch-000-0.png",
    ]) {
      assert.ok(existsSync(join(runDir, file)), `${file} missing`);
    }
    const metrics = parseMetricsLines(readFileSync(join(runDir, "metrics.jsonl"), "utf8"));
    assert.ok(metrics.length >= 2, `${metrics.length} updates`);
    assert.equal(metrics[0].loss, Math.fround(Math.LN2));
    const lora = parseSafetensors(new Uint8Array(readFileSync(join(runDir, "lora.safetensors"))));
    assert.ok([...lora.tensors.keys()].every((k) => /^unet\..*\.lora\.(down|up)\.weight$/.test(k)));
    assert.match(readFileSync(join(runDir, "metrics.svg"), "utf8"), /^<svg[\s\S]*loss[\s\S]*<\/svg>\n$/);
    assert.match(err.join(""), /ETA/);

    const again = capture();
    assert.equal(await runTrainCommand(["--resume", runDir], again.io), 0, again.err.join(""));
    assert.match(again.err.join(""), new RegExp(`done: ${metrics.length} updates`));
  });
});
