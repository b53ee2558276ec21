// Text to image from a diffusers model folder, with a negative prompt and an optional LoRA tag.
//
//   node --conditions=@spo/source --import tsx examples/node/generate.ts \
//     [--model <diffusers folder>] [--prompt "..."] [--negative "..."] [--lora-dir <folder>] \
//     [--steps 20] [--cfg 5] [--seed 0] [--out examples/node/output/generate]
//
// Without --model it uses the toy 16×16 pixel-space model shipped in @spo/toyworld, so it runs on a CPU
// in seconds. A `<lora:name:weight>` tag in the prompt is resolved to `<lora-dir>/name.safetensors`
// (lora_formats.ts writes one for the toy model: `--lora-dir examples/node/output/lora_formats --prompt
// "<lora:toy_kohya:0.8> ..."`).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadStableDiffusionPipeline, loraFolderResolver, toPng } from "@spo/pipeline/node";
import { TOY_BASE_MODEL_URL } from "@spo/toyworld/node";
import { Device } from "@spo/wgpu-tensor";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: fileURLToPath(TOY_BASE_MODEL_URL) },
    prompt: { type: "string", default: "a large red circle in the center on a white background" },
    negative: { type: "string", default: "a black background" },
    "lora-dir": { type: "string" },
    steps: { type: "string", default: "20" },
    cfg: { type: "string", default: "5" },
    seed: { type: "string", default: "0" },
    out: { type: "string", default: "examples/node/output/generate" },
  },
});

// One WebGPU device for everything (Dawn in Node; lavapipe on a machine without a GPU).
Device.setDefault(await Device.create());

const started = performance.now();
const pipe = await loadStableDiffusionPipeline(args.model);
const { images, seeds, loraTags } = await pipe.generate({
  prompt: args.prompt,
  negativePrompt: args.negative,
  numInferenceSteps: Number(args.steps),
  guidanceScale: Number(args.cfg),
  seed: Number(args.seed),
  // Without a resolver, <lora:…> tags are only reported, never applied.
  loras: args["lora-dir"] ? loraFolderResolver(args["lora-dir"]) : undefined,
});
pipe.dispose();

await mkdir(args.out, { recursive: true });
const file = join(args.out, `image-${seeds[0]}.png`);
await writeFile(file, toPng(images[0]!));
const tags = loraTags.map((t) => `${t.name}:${t.unetMultiplier}`).join(", ") || "none";
console.log(
  `wrote ${file} (${images[0]!.width}×${images[0]!.height}, LoRAs: ${tags}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
