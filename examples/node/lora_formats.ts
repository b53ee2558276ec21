// LoRA files in practice: make a small LoRA for the toy model, save it in kohya's format (what A1111 and
// Civitai use), load it back with a match report, convert it to diffusers' format, and merge it into a
// copy of the UNet checkpoint.
//
//   node --conditions=@spo/source --import tsx examples/node/lora_formats.ts [--out examples/node/output/lora_formats]
//
// Everything is written under --out; the shipped model is only read. The kohya file it writes is named
// toy_kohya.safetensors, so generate.ts can use it: `--lora-dir <out> --prompt "<lora:toy_kohya:0.8> …"`.
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  convertLora,
  describeLoraReport,
  injectLora,
  loadLora,
  mergeLoraIntoCheckpoint,
  readLoraFile,
  saveLora,
  writeLoraFile,
} from "@spo/lora/node";
import { loadToyModel, TOY_BASE_MODEL_URL } from "@spo/toyworld/node";
import { Device, tensor } from "@spo/wgpu-tensor";

const { values: args } = parseArgs({ options: { out: { type: "string", default: "examples/node/output/lora_formats" } } });
await mkdir(args.out, { recursive: true });
Device.setDefault(await Device.create());
const started = performance.now();

// 1. A LoRA of rank 2 on the attention projections of the toy UNet. A fresh LoRA has B = 0 (it changes
//    nothing), so give B small deterministic values to stand in for a trained one.
const pipe = await loadToyModel();
const unet = pipe.components.unet;
const adapter = injectLora(unet, { name: "toy", rank: 2, alpha: 2, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 0 });
const filled: Record<string, ReturnType<typeof tensor>> = {};
for (const [key, value] of adapter.stateDict()) {
  if (!key.includes("lora_B")) continue;
  const size = value.shape.reduce((a: number, b: number) => a * b, 1);
  filled[key] = tensor(
    Float32Array.from({ length: size }, (_, i) => 0.01 * Math.sin(i + key.length)),
    value.shape,
  );
}
adapter.loadStateDict(filled, { strict: false });

// 2. Save it in kohya's format: lora_unet_<path>.lora_down / .lora_up / .alpha.
const kohyaFile = join(args.out, "toy_kohya.safetensors");
await writeLoraFile(kohyaFile, await saveLora(adapter, "kohya", { models: unet }));
adapter.remove();
console.log(`saved ${kohyaFile}`);

// 3. Load the file back onto the UNet, strictly: every key must match a layer. The report says what matched.
const { tensors } = await readLoraFile(kohyaFile);
const { adapter: loaded, report } = loadLora(unet, tensors, { name: "from_file", strict: true });
console.log(`loaded: ${describeLoraReport(report)}`);
loaded.remove();

// 4. Convert kohya → diffusers. kohya names are resolved against the model's real module names, so pass
//    the toy UNet (without `models`, convertLora uses Stable Diffusion 1.5's names).
const diffusersFile = join(args.out, "toy_diffusers.safetensors");
const converted = await convertLora(kohyaFile, diffusersFile, { to: "diffusers", models: { unet } });
console.log(`converted to ${diffusersFile}: ${describeLoraReport(converted)}`);
pipe.dispose();

// 5. Merge the LoRA into a copy of the UNet checkpoint (W ← W + weight·(alpha/r)·up·down): a model folder
//    that needs no LoRA support to load. Here the whole toy folder is not copied, only the UNet file.
const baseUnet = join(fileURLToPath(TOY_BASE_MODEL_URL), "unet", "diffusion_pytorch_model.safetensors");
const copy = join(args.out, "unet_base_copy.safetensors");
await copyFile(baseUnet, copy);
const mergedFile = join(args.out, "unet_merged.safetensors");
const [mergeReport] = await mergeLoraIntoCheckpoint(copy, [{ file: kohyaFile, weight: 0.8 }], mergedFile, { strict: true });
console.log(`merged into ${mergedFile}: ${describeLoraReport(mergeReport!)}`);
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
