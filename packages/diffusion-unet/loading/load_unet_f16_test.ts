// loadUNetFromFolder({ dtype: "f16" }) keeps f16 weights whatever the file holds (F32, F16, BF16):
// each parameter equals the file's value rounded to f16; without shader-f16 the model is f32.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from "@spo/safetensors";
import { Device, f16BitsToF32, f32ToF16Bits } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadUNetFromFolder } from "./load_unet_node.ts";

const FIXTURES = new URL("../test/fixtures/oracle/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("unet.json", FIXTURES), "utf8")) as { config: Record<string, unknown> };
const weights = new Map<string, Float32Array>();
const shapes = new Map<string, number[]>();
for (const [name, t] of parseSafetensors(readFileSync(new URL("unet.safetensors", FIXTURES))).tensors) {
  if (!name.startsWith("weights.")) continue;
  weights.set(name.slice("weights.".length), toFloat32Array(t));
  shapes.set(name.slice("weights.".length), [...t.shape]);
}

/** bf16 bits of an f32 value, rounded to nearest even (what torch's .to(bfloat16) does). */
function bf16Bits(value: number): number {
  const u32 = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  return (u32 + 0x7fff + ((u32 >>> 16) & 1)) >>> 16;
}

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "unet-f16-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

function writeFolder(kind: "F32" | "F16" | "BF16"): { folder: string; decoded: Map<string, Float32Array> } {
  const folder = join(scratch, kind);
  mkdirSync(join(folder, "unet"), { recursive: true });
  writeFileSync(join(folder, "unet", "config.json"), JSON.stringify(manifest.config));
  const tensors = new Map<string, TensorInput>();
  for (const [name, values] of weights) {
    const data = kind === "F32" ? values : Uint16Array.from(values, (v) => (kind === "F16" ? f32ToF16Bits(v) : bf16Bits(v)));
    tensors.set(name, { dtype: kind, shape: shapes.get(name)!, data });
  }
  const bytes = serializeSafetensors(tensors);
  writeFileSync(join(folder, "unet", "diffusion_pytorch_model.safetensors"), bytes);
  const decoded = new Map<string, Float32Array>();
  for (const [name, t] of parseSafetensors(bytes).tensors) decoded.set(name, toFloat32Array(t));
  return { folder, decoded };
}

for (const kind of ["F32", "F16", "BF16"] as const) {
  test(`a ${kind} file loads into f16 parameters equal to its values rounded to f16`, async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    const { folder, decoded } = writeFolder(kind);
    const unet = await loadUNetFromFolder(folder, { device, dtype: "f16" });
    try {
      assert.equal(unet.dtype, "f16");
      const parameters = [...unet.namedParameters()];
      for (const [name, parameter] of parameters) assert.equal(parameter.dtype, "f16", name);
      // values of every 16th parameter (readbacks are slow on a shared CPU adapter)
      for (const [name, parameter] of parameters.filter((_, i) => i % 16 === 0)) {
        const expected = Array.from(decoded.get(name)!, (v) => f16BitsToF32(f32ToF16Bits(v)));
        assert.deepEqual([...(await parameter.toArray())], expected, name);
      }
    } finally {
      unet.dispose();
    }
  });
}

test("without shader-f16 a dtype f16 load gives f32 parameters", async () => {
  const plain = await Device.create({ withoutF16: true });
  try {
    const { folder } = writeFolder("F32");
    const unet = await loadUNetFromFolder(folder, { device: plain, dtype: "f16" });
    assert.equal(unet.dtype, "f32");
    assert.ok(unet.parameters().every((p) => p.dtype === "f32"));
    unet.dispose();
  } finally {
    plain.destroy();
  }
});
