/**
 * What the examples' browser tests share: a model folder of the toy world's shape (pixel space,
 * 16×16, seeded random weights) served where the pages look for the toy model, the built pages on
 * a local server, and Debian's Chromium with WebGPU on SwiftShader (flags of the repository's
 * browser harness), downloads accepted, a laptop-sized window.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIPTextModel } from "@spo/clip";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import { saveToyModelFolder, TOY_TEXT_ENCODER_CONFIG, TOY_UNET_CONFIG } from "@spo/toyworld/node";
import type { Device } from "@spo/wgpu-tensor";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATHS } from "../../../packages/wgpu-tensor/testing/browser_node.ts";
import { type ExampleServer, serveExamples } from "../serve_node.ts";

/** Screenshots of every test (git-ignored; the README's are copied from here by hand). */
export const SHOTS = fileURLToPath(new URL("../test-output/", import.meta.url));

/** An open example site in Chromium. */
export interface ExampleBrowser {
  work: string;
  /** The served toy-shaped model folder. */
  modelFolder: string;
  site: ExampleServer;
  context: BrowserContext;
  page: Page;
  console: string[];
  /** Waits for `body[data-state=state]`, failing with the page's status and console. */
  waitForState(state: string, page?: Page): Promise<void>;
  close(): Promise<void>;
}

/** Writes the model, builds and serves the pages, launches Chromium. */
export async function openExampleBrowser(device: Device, timeoutMs: number): Promise<ExampleBrowser> {
  const work = await mkdtemp(join(tmpdir(), "spo-browser-examples-"));
  const modelFolder = join(work, "toy");
  const unet = UNet2DConditionModel.fromConfig(TOY_UNET_CONFIG, { seed: 5, device });
  const textEncoder = CLIPTextModel.fromConfig(TOY_TEXT_ENCODER_CONFIG, { seed: 6, device });
  // a trained CLIP's final LayerNorm has a non-zero bias; the init's zero bias makes the mean of the
  // output ~0, and A1111's emphasis (z·w rescaled by mean(z)/mean(z·w)) would divide rounding noise
  const width = TOY_TEXT_ENCODER_CONFIG.hidden_size;
  textEncoder.loadStateDict(
    {
      "text_model.final_layer_norm.bias": { shape: [width], data: Float32Array.from({ length: width }, (_, i) => 0.3 + 0.1 * Math.sin(i)) },
    },
    { strict: false },
  );
  await saveToyModelFolder(modelFolder, unet, textEncoder);
  unet.dispose();
  textEncoder.dispose();
  const site = await serveExamples({ port: 0, outDir: join(work, "site"), toyModel: modelFolder, minify: false });
  await mkdir(SHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: CHROMIUM_PATHS.find((path) => path === "/usr/bin/chromium") ?? CHROMIUM_PATHS[0],
    headless: false, // `--headless=new` is in the flags: the full browser, headless (WebGPU needs it)
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
    timeout: timeoutMs,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const lines: string[] = [];
  page.on("console", (message) => lines.push(`[${message.type()}] ${message.text()}`));
  page.on("pageerror", (error) => lines.push(`[pageerror] ${error.message}`));
  page.on("dialog", (dialog) => void dialog.accept());
  page.setDefaultTimeout(timeoutMs);
  return {
    work,
    modelFolder,
    site,
    context,
    page,
    console: lines,
    async waitForState(state, on = page) {
      try {
        await on.waitForSelector(`body[data-state="${state}"]`, { timeout: timeoutMs });
      } catch (error) {
        const now = await on.evaluate(() => document.body.dataset.state).catch(() => "unknown");
        const status = await on
          .evaluate(() =>
            [...document.querySelectorAll("[role=status], [role=alert]")]
              .map((e) => e.textContent?.trim())
              .filter(Boolean)
              .join(" | "),
          )
          .catch(() => "");
        throw new Error(`The page did not reach state "${state}" (it is "${now}": ${status})\n${lines.slice(-20).join("\n")}`, {
          cause: error,
        });
      }
    },
    async close() {
      await context.close().catch(() => {});
      await site.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
