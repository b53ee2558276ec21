/**
 * A tiny SPO run (pixel-space UNet 3×8×8, word prompt encoder, brightness scorer) that runs the same
 * in Node and in a browser page: it returns the metrics and the final LoRA's values.
 */
import { DDIMScheduler, SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { mean, noGrad, type Tensor } from "@spo/wgpu-tensor";
import type { UpdateMetrics } from "../metrics/update_metrics.ts";
import { SpoTrainer } from "../training/spo_trainer.ts";
import { tinyUnetConfig, wordPromptEncoder } from "./_tiny.ts";

export interface TinyRunResult {
  metrics: Omit<UpdateMetrics, "seconds">[];
  /** Every LoRA parameter, concatenated in state-dict order. */
  lora: number[];
}

export async function tinySpoRun(): Promise<TinyRunResult> {
  const unet = UNet2DConditionModel.fromConfig(tinyUnetConfig(3), { seed: 4 });
  unet.requiresGrad_(false);
  const brightness = async (images: Tensor) => Float32Array.from(await noGrad(() => mean(images, [1, 2, 3])).toArray(), (v) => 20 * v);
  const trainer = await SpoTrainer.create(
    { unet, scheduler: DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG), promptEncoder: wordPromptEncoder, scorer: brightness },
    {
      epochs: 1,
      sampleBatchSize: 2,
      trainBatchSize: 4,
      steps: 4,
      divertStartStep: 1,
      poolSize: 2,
      threshold: 0.05,
      latentShape: [3, 8, 8],
      validationCount: 0,
      learningRate: 1e-3,
    },
    { prompts: ["a red circle", "a blue square"] },
  );
  await trainer.run();
  const lora: number[] = [];
  for (const p of trainer.adapter.parameters()) lora.push(...(await p.toArray()));
  const metrics = trainer.metrics.map(({ seconds: _seconds, ...rest }) => rest);
  trainer.dispose();
  unet.dispose();
  return { metrics, lora };
}
