// The Quick Generate page in Debian's Chromium (WebGPU on SwiftShader), driven as a user would:
// the model streamed by URL from the example server, the form filled in, Generate pressed. The PNG
// it offers for download must hold Node's pixels for the same settings and A1111's parameters text.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadStableDiffusionPipeline } from "@spo/pipeline/node";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import type { Page } from "playwright-core";
import { type ExampleBrowser, openExampleBrowser, SHOTS } from "./_example_browser_node.ts";
import { decodePng } from "./_png_reader_node.ts";

const TIMEOUT_MS = 180_000;

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

const waitForState = (state: string) => browser.waitForState(state);

async function openPage(): Promise<void> {
  await page.goto(`${browser.site.url}generate.html`);
  await waitForState("ready");
}

describe("the Quick Generate page in Chromium", () => {
  test("a fixed seed gives Node's pixels, and the downloaded PNG carries its A1111 parameters", { timeout: TIMEOUT_MS }, async (t) => {
    const settings = {
      prompt: "a small (blue:1.2) square at the top on a black background",
      negativePrompt: "blurry",
      steps: 3,
      cfg: 5,
      seed: 21,
      sampler: "euler_a" as const,
      batch: 2,
    };
    await openPage();
    await page.fill("#prompt", settings.prompt);
    await page.fill("#negative", settings.negativePrompt);
    await page.fill("#steps", String(settings.steps));
    await page.fill("#cfg", String(settings.cfg));
    await page.fill("#seed", String(settings.seed));
    await page.selectOption("#sampler", settings.sampler);
    await page.fill("#batch", String(settings.batch));
    await page.click("#generate");
    await waitForState("done");
    await page.screenshot({ path: join(SHOTS, "quick_generate.png") });
    t.diagnostic(`ms per step in Chromium (batch ${settings.batch}, CFG): ${await page.evaluate(() => document.body.dataset.msPerStep)}`);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click('a[download$="-21.png"]')]);
    const png = decodePng(new Uint8Array(await readFile(await download.path())));
    assert.equal(download.suggestedFilename(), "toy-21.png");
    assert.equal(
      png.text.parameters,
      "a small (blue:1.2) square at the top on a black background\nNegative prompt: blurry\nSteps: 3, Sampler: Euler a, CFG scale: 5, Seed: 21, Size: 16x16, Model: toy",
    );
    assert.equal(png.width, 16);
    assert.equal(png.height, 16);

    const pipe = await loadStableDiffusionPipeline(browser.modelFolder, { device });
    const options = {
      prompt: settings.prompt,
      negativePrompt: settings.negativePrompt,
      numInferenceSteps: settings.steps,
      guidanceScale: settings.cfg,
      seed: settings.seed,
      scheduler: settings.sampler,
      numImagesPerPrompt: settings.batch,
    };
    const node = await pipe.generate(options);
    const otherSeed = await pipe.generate({ ...options, seed: 40 });
    pipe.dispose();
    const expected = node.images[0]!.data;
    let maxDiff = 0;
    let differing = 0;
    let seedDiffering = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(png.rgba[i]! - expected[i]!);
      maxDiff = Math.max(maxDiff, diff);
      if (diff > 0) differing++;
      if (otherSeed.images[0]!.data[i] !== expected[i]) seedDiffering++;
    }
    t.diagnostic(
      `bytes differing from Node: ${differing} of ${expected.length}, max |Δ| ${maxDiff}; another seed changes ${seedDiffering}`,
    );
    // the pipeline browser test's rule: same Philox noise bit for bit, float kernels within a few
    // ulps, so an 8-bit value moves by at most one level, in a small share of the bytes
    assert.ok(maxDiff <= 1, `max byte difference ${maxDiff}`);
    assert.ok(differing <= expected.length * 0.02, `${differing} bytes differ`);
    assert.ok(seedDiffering > expected.length / 2, "another seed must change the image (or the comparison proves nothing)");
  });

  test("Cancel stops sampling within the step that is running", { timeout: TIMEOUT_MS }, async (t) => {
    await openPage();
    await page.fill("#steps", "60");
    await page.fill("#batch", "1");
    await page.focus("#prompt");
    await page.keyboard.press("Control+Enter"); // the keyboard shortcut starts it
    await page.waitForFunction(() => (document.getElementById("step-progress") as HTMLProgressElement).value >= 2, undefined, {
      timeout: TIMEOUT_MS,
    });
    // read the step and press Cancel in one go inside the page, so no step can slip in between
    const stepAtCancel = await page.evaluate(() => {
      const step = (document.getElementById("step-progress") as HTMLProgressElement).value;
      (document.getElementById("cancel") as HTMLButtonElement).click();
      return step;
    });
    await waitForState("cancelled");
    await page.screenshot({ path: join(SHOTS, "quick_generate_cancelled.png") });
    const cancelledAfter = Number(await page.evaluate(() => document.body.dataset.cancelledAfter));
    t.diagnostic(
      `ms per step in Chromium (1 image, CFG, incl. prompt encoding): ${await page.evaluate(() => document.body.dataset.msPerStep)}`,
    );
    assert.ok(
      cancelledAfter >= stepAtCancel && cancelledAfter <= stepAtCancel + 1,
      `cancelled at step ${stepAtCancel}, stopped after step ${cancelledAfter}`,
    );
    assert.match((await page.textContent("#step-status")) ?? "", new RegExp(`^Cancelled after step ${cancelledAfter} of 60$`));
    assert.equal(await page.isEnabled("#generate"), true, "Generate is available again");
  });

  test("a model folder picked from disk with the directory picker loads, streamed with byte progress", {
    timeout: TIMEOUT_MS,
  }, async () => {
    await openPage();
    const seen: string[] = [];
    await page.exposeFunction("recordModelStatus", (text: string) => seen.push(text));
    await page.evaluate(() => {
      const target = document.getElementById("model-status")!;
      new MutationObserver(() =>
        (window as unknown as { recordModelStatus(t: string): void }).recordModelStatus(target.textContent ?? ""),
      ).observe(target, { childList: true, characterData: true, subtree: true });
    });
    await page.setInputFiles("#model-dir", browser.modelFolder);
    await page.waitForFunction(() => document.getElementById("model-status")!.textContent!.startsWith("Loaded "), undefined, {
      timeout: TIMEOUT_MS,
    });
    await waitForState("ready");
    const folderName = browser.modelFolder.split("/").at(-1)!;
    assert.match((await page.textContent("#model-status")) ?? "", new RegExp(`^Loaded ${folderName} \\(16×16, pixel space`));
    assert.ok(
      seen.some((text) => /^Streaming unet\/diffusion_pytorch_model\.safetensors: [\d.]+ MB of [\d.]+ MB$/.test(text)),
      seen.slice(0, 5).join(" | "),
    );
  });

  test("without WebGPU the page says so and what to do, and offers nothing to press", { timeout: TIMEOUT_MS }, async () => {
    const bare = await browser.context.newPage();
    try {
      // a string, not a function: the test's own transpiled code would not run in the page
      await bare.addInitScript('Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined, configurable: true });');
      await bare.goto(`${browser.site.url}generate.html`);
      await bare.waitForSelector('body[data-state="no-webgpu"]', { timeout: TIMEOUT_MS });
      await bare.screenshot({ path: join(SHOTS, "quick_generate_no_webgpu.png") });
      const notice = (await bare.textContent("#no-webgpu")) ?? "";
      assert.match(notice, /WebGPU is not available/);
      assert.match(notice, /Chrome or Edge 113/);
      assert.equal(await bare.isVisible("#no-webgpu"), true);
      assert.equal(await bare.isDisabled("#generate"), true);
      assert.equal(await bare.isDisabled("#prompt"), true);
    } finally {
      await bare.close();
    }
  });
});
