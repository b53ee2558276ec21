// The same tiny SPO run in Chromium (browser WebGPU on SwiftShader) and in Node (dawn.node on
// lavapipe): the trainer bundles for the browser without Node modules, samples the same pairs
// (Philox noise is bit-identical across adapters) and ends with nearly the same LoRA (float kernels
// agree to a few ulps).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { type BrowserSession, openBrowser } from "../../wgpu-tensor/testing/browser_node.ts";
import { tinySpoRun, type TinyRunResult } from "./_tiny_run.ts";

const ENTRY = fileURLToPath(new URL("./browser/train_entry.ts", import.meta.url));
const TIMEOUT_MS = 180_000;
let device: Device;
let session: BrowserSession;

before(
  async () => {
    device = await testDevice();
    session = await openBrowser({ timeoutMs: TIMEOUT_MS });
  },
  { timeout: TIMEOUT_MS },
);
after(async () => {
  await session?.close();
  device?.destroy();
});

it("trains in a browser page as in Node", { timeout: TIMEOUT_MS }, async (t) => {
  const node = await tinySpoRun();
  const page = await session.call<TinyRunResult & { adapter: string }>(ENTRY, "trainInPage");
  t.diagnostic(`page adapter: ${page.adapter}; Node adapter: ${device.adapter.description}`);
  assert.equal(page.metrics.length, node.metrics.length);
  assert.ok(node.metrics.length > 0);
  page.metrics.forEach((m, i) => {
    const n = node.metrics[i];
    assert.equal(m.pairsKept, n.pairsKept, `update ${i + 1}: pairs kept`);
    assert.equal(m.pairsOffered, n.pairsOffered);
    assert.ok(Math.abs(m.loss - n.loss) < 1e-4, `update ${i + 1}: loss ${m.loss} in the page, ${n.loss} in Node`);
  });
  assert.equal(page.lora.length, node.lora.length);
  const scale = Math.max(...node.lora.map(Math.abs));
  const maxDiff = Math.max(...page.lora.map((v, i) => Math.abs(v - node.lora[i])));
  t.diagnostic(`LoRA max |page − Node| ${maxDiff.toExponential(2)} (largest value ${scale.toFixed(3)})`);
  assert.ok(maxDiff <= 1e-3 * scale, `LoRA differs by ${maxDiff}`);
});
