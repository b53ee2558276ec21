import assert from "node:assert/strict";
import { rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { type FileServer, startFileServer } from "../../wgpu-tensor/testing/static_files_node.ts";
import { writeTinyModel } from "../test/_tiny_model_node.ts";
import { loadStableDiffusionPipeline as loadFromUrl, ModelFolderError, missingModelFiles } from "./load_pipeline.ts";
import { loadStableDiffusionPipeline } from "./load_pipeline_node.ts";
import { urlModelSource } from "./model_source.ts";
import { folderModelSource } from "./model_source_node.ts";

let device: Device;
let folder: string;
let server: FileServer;

before(async () => {
  device = await testDevice();
  folder = await writeTinyModel({ taesd: true });
  server = await startFileServer(folder);
});

after(async () => {
  await server?.close();
  device?.destroy();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const OPTIONS = {
  prompt: "a (blue:1.2) bird",
  negativePrompt: "dark",
  numInferenceSteps: 2,
  guidanceScale: 4,
  seed: 11,
  width: 32,
  height: 32,
};

describe("loading a pipeline from a URL", () => {
  test("gives the same pixels as the folder on disk, reading weights with range requests", async () => {
    const fromFolder = await loadStableDiffusionPipeline(folder);
    const expected = (await fromFolder.generate(OPTIONS)).images[0]!.data;
    fromFolder.dispose();

    const firstRequest = server.requests.length;
    const fromUrl = await loadFromUrl(server.url, { taesd: `${server.url}taesd/` });
    const actual = (await fromUrl.generate(OPTIONS)).images[0]!.data;
    fromUrl.dispose();
    assert.deepEqual(actual, expected);

    const requests = server.requests.slice(firstRequest);
    const weightReads = requests.filter((r) => r.path === "unet/diffusion_pytorch_model.safetensors" && r.method === "GET");
    assert.ok(weightReads.length > 0 && weightReads.every((r) => r.range !== undefined), "UNet weights are read with Range requests");
    assert.ok(
      requests.some((r) => r.path === "taesd/diffusion_pytorch_model.safetensors"),
      "TAESD came from the URL too",
    );
  });

  test("the Node loader takes an http URL string and a TAESD safetensors URL", async () => {
    const pipe = await loadStableDiffusionPipeline(server.url.slice(0, -1), {
      taesd: `${server.url}taesd/diffusion_pytorch_model.safetensors`,
    });
    try {
      assert.ok(pipe.components.taesd !== undefined);
      assert.equal(pipe.components.unet.config.blockOutChannels.length, 2);
    } finally {
      pipe.dispose();
    }
  });

  test("URL and folder sources agree on which files a model lacks", async () => {
    const broken = await writeTinyModel();
    await using brokenServer = await startFileServer(broken);
    try {
      await unlink(join(broken, "text_encoder", "model.safetensors"));
      assert.deepEqual(await missingModelFiles(urlModelSource(brokenServer.url)), ["text_encoder/model.safetensors"]);
      assert.deepEqual(await missingModelFiles(folderModelSource(broken)), ["text_encoder/model.safetensors"]);
      assert.deepEqual(await missingModelFiles(urlModelSource(brokenServer.url), "fp16"), [
        "text_encoder/model.fp16.safetensors",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.fp16.safetensors",
      ]);
      await assert.rejects(loadFromUrl(brokenServer.url), (error: Error) => {
        assert.ok(error instanceof ModelFolderError);
        assert.ok(error.message.includes(brokenServer.url), error.message);
        assert.match(error.message, /missing text_encoder\/model\.safetensors/);
        return true;
      });
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  test("a server that refuses HEAD is asked for one byte instead", async () => {
    const seen: string[] = [];
    const noHead: typeof fetch = async (input, init) => {
      seen.push(init?.method ?? "GET");
      if (init?.method === "HEAD") return new Response(null, { status: 405 });
      return await fetch(input, init);
    };
    const source = urlModelSource(server.url, { fetch: noHead });
    assert.equal(await source.exists("unet/config.json"), true);
    assert.equal(await source.exists("unet/nope.json"), false);
    assert.deepEqual(seen, ["HEAD", "GET", "HEAD", "GET"]);
  });
});
