// The Train page in Debian's Chromium (WebGPU on SwiftShader): SPO on a toy-shaped model in the
// tab, paused after two updates; the LoRA it offers has moved away from its zero-delta start; a
// reload restores the run from IndexedDB bit for bit, and Resume continues its update count.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSafetensors, toFloat32Array } from "@spo/safetensors";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import type { Page } from "playwright-core";
import { type ExampleBrowser, openExampleBrowser, SHOTS } from "./_example_browser_node.ts";

const TIMEOUT_MS = 300_000;

let device: Device;
let browser: ExampleBrowser;
let page: Page;

before(
  async () => {
    device = await testDevice();
    browser = await openExampleBrowser(device, TIMEOUT_MS);
    page = browser.page;
  },
  { timeout: TIMEOUT_MS },
);

after(async () => {
  await browser?.close();
  device?.destroy();
});

async function downloadLora(): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-lora")]);
  assert.match(download.suggestedFilename(), /^spo_toy_lora_update\d+\.safetensors$/);
  return new Uint8Array(await readFile(await download.path()));
}

/** Waits until the page has more than `count` updates; fails at once with the page's error. */
async function waitForUpdatesAbove(count: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.updates) > n || document.body.dataset.error === "1", count, {
    timeout: TIMEOUT_MS,
  });
  assert.equal(
    await page.evaluate(() => document.body.dataset.error),
    undefined,
    `the page failed: ${await page.textContent("#form-error")}`,
  );
}

async function updates(): Promise<number> {
  return Number(await page.evaluate(() => document.body.dataset.updates));
}

describe("the Train page in Chromium", () => {
  test("two updates change the LoRA; a reload resumes from the stored state", { timeout: TIMEOUT_MS }, async (t) => {
    await page.goto(`${browser.site.url}train.html`);
    await browser.waitForState("ready");
    // a small run: one prompt per iteration, 2 DDIM steps (2 pairs: 2 updates an iteration), pools of 2, every pair kept
    for (const [id, value] of Object.entries({ prompts: "4", epochs: "1", steps: "2", pool: "2", batch: "1", lr: "0.003", threshold: "0" }))
      await page.fill(`#${id}`, value);
    const started = performance.now();
    await page.click("#start");
    await waitForUpdatesAbove(1);
    await page.click("#pause");
    await browser.waitForState("paused");
    t.diagnostic(`to ${await updates()} updates and paused: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await page.screenshot({ path: join(SHOTS, "train.png") });
    const done = await updates();
    assert.ok(done >= 2, `${done} updates`);

    const lora = await downloadLora();
    const parsed = parseSafetensors(lora);
    const names = [...parsed.tensors.keys()];
    // diffusers layout: unet.<module path>.lora.{down,up}.weight on the attention projections
    assert.ok(names.length > 0 && names.every((name) => /^unet\..+\.lora\.(down|up)\.weight$/.test(name)), names.slice(0, 4).join(", "));
    assert.ok(names.some((name) => name.includes("to_q")));
    // a new LoRA's up matrices are zero (no change to the model); after the updates they are not
    const upAbsSum = names
      .filter((n) => n.endsWith(".lora.up.weight"))
      .reduce((sum, n) => sum + [...toFloat32Array(parsed.tensors.get(n)!)].reduce((a, v) => a + Math.abs(v), 0), 0);
    assert.ok(upAbsSum > 0, "the LoRA's up weights moved away from zero");

    await page.reload();
    await browser.waitForState("paused");
    await page.screenshot({ path: join(SHOTS, "train_resumed.png") });
    assert.equal(await updates(), done, "the charts hold every stored update");
    assert.match((await page.textContent("#train-status")) ?? "", new RegExp(`Resumed the stored run at update ${done}\\b`));
    assert.deepEqual(await downloadLora(), lora, "the restored LoRA is the stored one, byte for byte");
    assert.equal(await page.inputValue("#steps"), "2", "the run's settings come back");

    await page.click("#start"); // "Resume"
    await waitForUpdatesAbove(done);
    await page.click("#pause");
    await browser.waitForState("paused");
    assert.ok((await updates()) > done);
    assert.notDeepEqual(await downloadLora(), lora, "training went on from the restored state");
  });
});
