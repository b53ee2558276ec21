// The same computations in Node (dawn.node on lavapipe or a GPU) and in Chromium (browser WebGPU on
// SwiftShader): identical bits for integer and random outputs, a few ULPs for float math.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Device } from "../../device/device.ts";
import { assertClose, testDevice } from "../../testing/mod.ts";
import { type BrowserSession, bundleForBrowser, openBrowser, runInBrowser } from "../../testing/browser_node.ts";
import { type ComputationResult, computations, runComputation } from "./computations.ts";

const ENTRY = fileURLToPath(new URL("./computations.ts", import.meta.url));
const TIMEOUT_MS = 60_000;

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

function bitsOf(result: ComputationResult): Uint32Array {
  const data = result.data;
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

describe("WebGPU in Chromium", () => {
  test("the page gets a WebGPU adapter and a device from navigator.gpu", async (t) => {
    t.diagnostic(`Chromium launched in ${Math.round(session.launchMs)} ms`);
    assert.equal(await session.call(ENTRY, "hasNavigatorGpu"), true);
    const page = await session.call<{
      vendor: string;
      architecture: string;
      description: string;
      isCpu: boolean;
      features: string[];
      userAgent: string;
    }>(ENTRY, "pageAdapter");
    t.diagnostic(
      `Chromium adapter: ${page.vendor} / ${page.architecture} / ${page.description || "(no description)"}; features: ${page.features.join(", ")}`,
    );
    t.diagnostic(`Node adapter: ${device.adapter.vendor} / ${device.adapter.architecture} / ${device.adapter.description}`);
    t.diagnostic(page.userAgent);
    // the launch flags ask for SwiftShader, Chromium's CPU Vulkan: a software adapter
    assert.match(`${page.vendor} ${page.architecture} ${page.description}`, /swiftshader/i);
    assert.equal(page.isCpu, true);
  });

  test("the browser bundle leaves dawn.node out and rejects static imports of Node modules", async () => {
    const bundle = await bundleForBrowser(ENTRY);
    assert.ok(!bundle.includes("dawn.node"), "the bundle mentions dawn.node");
    assert.doesNotMatch(bundle, /^import .* from "(webgpu|node:[a-z_]+)";$/m);
    const folder = await mkdtemp(join(tmpdir(), "spo-bundle-"));
    try {
      const nodeOnly = join(folder, "entry.ts");
      await writeFile(nodeOnly, 'import { readFileSync } from "node:fs";\nexport const read = () => readFileSync("x");\n');
      await assert.rejects(bundleForBrowser(nodeOnly), /it statically imports node:fs, which exist only in Node/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  test("an error thrown in the page surfaces in Node with its message", async () => {
    await assert.rejects(session.call(ENTRY, "runInPage", "no such computation"), /Cannot run computation "no such computation"/);
  });

  test("runInBrowser() launches, calls and cleans up its own browser and profile", { timeout: TIMEOUT_MS }, async () => {
    const profiles = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("spo-chromium-"));
    const before = await profiles();
    assert.equal(await runInBrowser(ENTRY, "hasNavigatorGpu"), true);
    assert.deepEqual(
      (await profiles()).filter((name) => !before.includes(name)),
      [],
    );
  });

  test("a missing Chromium is reported with how to install it", async () => {
    await assert.rejects(
      openBrowser({ executablePath: "/nonexistent/chromium" }),
      /Cannot launch Chromium for the browser tests: none found at \/nonexistent\/chromium\. Run `bash scripts\/bootstrap.sh --browser`/,
    );
  });

  for (const [name, computation] of Object.entries(computations)) {
    test(`${name} gives the same result in Node and in Chromium`, { timeout: TIMEOUT_MS }, async () => {
      const inNode = await runComputation(name, device);
      const inPage = await session.call<ComputationResult>(ENTRY, "runInPage", name);
      assert.equal(inPage.dtype, inNode.dtype);
      assert.deepEqual(inPage.shape, inNode.shape);
      assert.equal(inPage.data.constructor, inNode.data.constructor);
      if (computation.compare === "exact") {
        const nodeBits = bitsOf(inNode);
        const pageBits = bitsOf(inPage);
        const first = pageBits.findIndex((bits, i) => bits !== nodeBits[i]);
        assert.equal(first, -1, `element ${first}: Chromium ${inPage.data[first]}, Node ${inNode.data[first]}`);
        assert.equal(pageBits.length, nodeBits.length);
      } else {
        assertClose(inPage.data, inNode.data, computation.compare, `${name} (Chromium vs Node)`);
      }
    });
  }
});
