// Reading a PyTorch checkpoint (.ckpt, .bin, .pt) without running its code, and converting it to
// safetensors. A pickle may ask Python to call anything; our reader builds only state-dict data and
// refuses every other request by name (`posix.system`, `builtins.eval`, a pickled nn.Module).
//
//   node --conditions=@spo/source --import tsx examples/node/checkpoints.ts [--in model.ckpt] [--out examples/node/output/checkpoints]
//
// Without --in, the example first writes an A1111-style .ckpt (weights under `state_dict`, plus a plain
// `global_step`) from the toy model's UNet, standing in for a file you downloaded.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { TensorInput } from "@spo/safetensors";
import { readSafetensorsFile } from "@spo/safetensors/node";
import { convertCheckpoint, readTorchCheckpointFile, TorchCheckpointError } from "@spo/torch-checkpoint/node";
import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
import { TOY_BASE_MODEL_URL } from "@spo/toyworld/node";

const { values: args } = parseArgs({
  options: {
    in: { type: "string" },
    out: { type: "string", default: "examples/node/output/checkpoints" },
  },
});
await mkdir(args.out, { recursive: true });
const started = performance.now();

let input = args.in;
if (input === undefined) {
  await using unet = await readSafetensorsFile(fileURLToPath(new URL("unet/diffusion_pytorch_model.safetensors", TOY_BASE_MODEL_URL)));
  const tensors = new Map<string, TensorInput>();
  for (const name of unet.names) tensors.set(`model.diffusion_model.${name}`, await unet.tensor(name));
  input = join(args.out, "toy_unet.ckpt");
  await writeFile(input, serializeTorchCheckpoint(tensors, { wrapInStateDict: true, values: { global_step: 150 } }));
}

// Opening reads and checks the zip directory and the pickle; tensor bytes are read only when asked for.
try {
  await using checkpoint = await readTorchCheckpointFile(input);
  console.log(`${input}: ${checkpoint.format} format, ${checkpoint.names.length} tensors`);
  for (const [key, value] of checkpoint.values) console.log(`  plain value ${key} = ${JSON.stringify(value)}`);
  const first = await checkpoint.tensor(checkpoint.names[0]!);
  console.log(`  first tensor ${checkpoint.names[0]}: ${first.dtype} [${first.shape.join(", ")}]`);
} catch (error) {
  // A file that asks for code is refused here with the name of what it asked for; nothing has run.
  if (error instanceof TorchCheckpointError) {
    console.error(`refused: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

// The weights of `state_dict` (or every tensor when there is none) to safetensors, dtypes kept.
const output = join(args.out, "converted.safetensors");
const report = await convertCheckpoint(input, output);
console.log(`converted: ${report.tensorCount} tensors, ${report.byteLength} bytes → ${output}`);
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
