import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { generationSoak, live } from "./_generation_soak_node.ts";

let device: Device;

before(async () => {
  device = await testDevice();
});

after(() => device?.destroy());

test("100 generations leave live bytes and buffers at their level after loading, and dispose() frees the weights", async () => {
  const figures = await generationSoak(device, 100);
  console.log(JSON.stringify(figures));
  assert.deepEqual(live(figures.afterLast), live(figures.afterLoad));
  assert.deepEqual(live(figures.afterDispose), live(figures.beforeLoad));
});
