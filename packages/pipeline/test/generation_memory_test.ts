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

test("generating 12 times leaves live bytes and buffers at their level after loading, and dispose() frees the weights", async () => {
  const figures = await generationSoak(device, 12);
  assert.deepEqual(live(figures.afterFirst), live(figures.afterLoad), "the first generation keeps nothing");
  assert.deepEqual(live(figures.afterLast), live(figures.afterLoad), "the 12th generation keeps nothing");
  assert.deepEqual(live(figures.afterDispose), live(figures.beforeLoad), "dispose() releases every weight");
});

test("generate() records no autograd graph even when the weights require gradients", async () => {
  const figures = await generationSoak(device, 3, { trainable: true });
  assert.deepEqual(live(figures.afterLast), live(figures.afterLoad));
  assert.deepEqual(live(figures.afterDispose), live(figures.beforeLoad));
});
