import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { testDevice } from "../testing/mod.ts";
import { Linear } from "./linear.ts";
import { loadPretrainedComponent, type PretrainedComponent } from "./pretrained_node.ts";

let device: Device;
let root: string;
before(async () => {
  device = await testDevice();
  root = await mkdtemp(join(tmpdir(), "spo-pretrained-"));
  await mkdir(join(root, "model", "unet"), { recursive: true });
  await writeFile(join(root, "model", "unet", "config.json"), JSON.stringify({ in: 3, out: 2 }));
  await writeFile(join(root, "model", "unet", "weights.bin"), "");
});
after(async () => {
  device.destroy();
  await rm(root, { recursive: true, force: true });
});

/** A Linear built from {in, out}; `load` records what it saw. */
function component(
  log: string[],
  overrides: Partial<PretrainedComponent<Linear, { close(): Promise<void> }>> = {},
): PretrainedComponent<Linear, { close(): Promise<void> }> {
  return {
    what: "a test layer",
    subfolder: "unet",
    weightFiles: ["weights.safetensors", "weights.bin"],
    build: (config) => new Linear(config.in as number, config.out as number),
    open: async (file) => {
      log.push(`open ${file.slice(root.length)}`);
      return { close: async () => void log.push("close") };
    },
    load: async () => void log.push("load"),
    ...overrides,
  };
}

describe("loadPretrainedComponent", () => {
  test("finds the subfolder of a model folder and the first weight file that exists", async () => {
    const log: string[] = [];
    const loaded = await loadPretrainedComponent(join(root, "model"), component(log));
    assert.deepEqual([...loaded.model.weight.shape], [2, 3]);
    assert.equal(loaded.folder, join(root, "model", "unet"));
    assert.deepEqual(log, ["open /model/unet/weights.bin", "load", "close"]);
    loaded.model.dispose();
    // the component's own folder works too
    const direct = await loadPretrainedComponent(join(root, "model", "unet"), component([]));
    direct.model.dispose();
  });

  test("names what is missing: the config, or every weight file tried", async () => {
    await assert.rejects(
      loadPretrainedComponent(root, component([])),
      /Cannot load a test layer from ".*": neither unet\/config.json nor config.json exists there/,
    );
    await assert.rejects(
      loadPretrainedComponent(join(root, "model"), component([], { weightFiles: ["a.safetensors", "b.bin"] })),
      /Cannot load a test layer from ".*unet": a.safetensors does not exist \(nor b.bin\)/,
    );
  });

  test("a failed load closes the file and disposes the model", async () => {
    const log: string[] = [];
    let built: Linear | undefined;
    const failing = component(log, {
      build: (config) => (built = new Linear(config.in as number, config.out as number)),
      load: async () => {
        throw new Error("bad weights");
      },
    });
    await assert.rejects(loadPretrainedComponent(join(root, "model"), failing), /bad weights/);
    assert.deepEqual(log, ["open /model/unet/weights.bin", "close"]);
    await assert.rejects(built!.weight.toArray(), /already disposed/);
  });
});
