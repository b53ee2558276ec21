/**
 * A training run on the tiny UNet in its own process, for the kill-and-resume test:
 * `node … _train_child_node.ts <runDir> fresh|resume`. Every iteration writes a checkpoint.
 */
import { mean, noGrad, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { trainInRunFolder } from "../training/run_folder_node.ts";
import { sd15Scheduler, tinyUnet, wordPromptEncoder } from "./_tiny.ts";

export const CHILD_PROMPTS = ["a red circle", "a blue square", "a green dot", "two yellow stars", "one white cloud", "a black cat"];
export const CHILD_CONFIG = {
  epochs: 1,
  sampleBatchSize: 2,
  trainBatchSize: 3,
  steps: 4,
  divertStartStep: 1,
  poolSize: 2,
  threshold: 0.05,
  latentShape: [4, 8, 8],
  validationCount: 0,
  checkpointEvery: 1,
  learningRate: 1e-3,
};

const [runDir, mode] = process.argv.slice(2);
if (!runDir || (mode !== "fresh" && mode !== "resume")) throw new Error("usage: _train_child_node.ts <runDir> fresh|resume");
await testDevice();
const unet = tinyUnet(11);
const scorer = async (images: Tensor) => Float32Array.from(await noGrad(() => mean(images, [1, 2, 3])).toArray(), (v) => 40 * v);
await trainInRunFolder({ unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer }, CHILD_CONFIG, {
  runDir,
  prompts: CHILD_PROMPTS,
  resume: mode === "resume",
  onCheckpoint: ({ progress }) => console.log(`checkpoint ${progress.iteration}`),
});
console.log("done");
process.exit(0);
