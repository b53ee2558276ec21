import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Device } from "../device/device.ts";
import { tensor } from "../ops/creation/creation.ts";
import { f16BitsToF32, f32ToF16Bits } from "../tensor/dtype.ts";
import { dtypeFor, PRECISION_RULES, resolveModelDType, toDType } from "./precision.ts";

let device: Device;
let plain: Device;
before(async () => {
  device = await Device.create();
  Device.setDefault(device);
  plain = await Device.create({ withoutF16: true });
});
after(() => {
  plain.destroy();
  device.destroy();
});

describe("mixed precision rules", () => {
  test("statistics, softmax, time embedding, scheduler, log-prob, LoRA, optimizer state and loss stay f32; weights and activations follow the model", () => {
    const f32Always = Object.entries(PRECISION_RULES)
      .filter(([, rule]) => rule.dtype === "f32")
      .map(([name]) => name)
      .sort();
    assert.deepEqual(f32Always, [
      "loraGradients",
      "loraParameters",
      "loss",
      "normStatistics",
      "optimizerState",
      "scheduler",
      "softmax",
      "spoLogProbability",
      "timestepEmbedding",
    ]);
    assert.equal(dtypeFor("weights", "f16"), "f16");
    assert.equal(dtypeFor("activations", "f16"), "f16");
    assert.equal(dtypeFor("optimizerState", "f16"), "f32");
    assert.equal(dtypeFor("weights", "f32"), "f32");
  });

  test("f16 is granted on a shader-f16 device and falls back to f32 with one notice per device otherwise", () => {
    assert.equal(plain.hasF16, false);
    const lines: string[] = [];
    assert.equal(
      resolveModelDType("f16", plain, "a UNet", (line) => lines.push(line)),
      "f32",
    );
    assert.equal(
      resolveModelDType("f16", plain, "a VAE", (line) => lines.push(line)),
      "f32",
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0], /no shader-f16.*a UNet.*f32/);
    assert.equal(
      resolveModelDType(undefined, plain, "a UNet", (line) => lines.push(line)),
      "f32",
    );
    if (device.hasF16)
      assert.equal(
        resolveModelDType("f16", device, "a UNet", (line) => lines.push(line)),
        "f16",
      );
    assert.equal(lines.length, 1);
    assert.throws(() => resolveModelDType("bf16" as "f16", device, "a UNet"), /must be "f32" or "f16"/);
  });

  test("toDType returns the tensor itself when the dtype matches and a rounded copy otherwise", async (t) => {
    const x = tensor([1, 1 / 3, 1000.7]);
    assert.equal(toDType(x, "f32"), x);
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter: only the f32 path is checked");
    const half = toDType(x, "f16");
    assert.equal(half.dtype, "f16");
    assert.deepEqual(
      [...(await half.toArray())],
      [1, 1 / 3, 1000.7].map((v) => f16BitsToF32(f32ToF16Bits(v))),
    );
  });
});
