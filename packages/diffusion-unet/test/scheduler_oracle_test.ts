// Every output of the four scheduler oracle cases (diffusers 0.26.1 on CPU, float32), computed by
// schedulerParityCase from the manifest alone and compared within the manifest's tolerance.
import { after, before, describe, it } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { schedulerParityCase } from "../../../scripts/parity/cases/scheduler_case.ts";
import { assertAllClose, loadOracleCase, toleranceOf } from "./_oracle_node.ts";

const CASES = ["scheduler_ddim", "scheduler_ddpm", "scheduler_euler_a", "scheduler_dpmpp_2m"];

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

for (const name of CASES) {
  describe(`the ${name} oracle case`, () => {
    it("is reproduced output by output within the manifest tolerance", async () => {
      const { manifest, tensors } = await loadOracleCase(name);
      const outputs = await schedulerParityCase(manifest, tensors);
      for (const output of manifest.outputs) {
        const want = tensors.get(output);
        const got = outputs.get(output);
        if (!want || !got) throw new Error(`${name}: output ${output} is missing (${want ? "computed" : "expected"})`);
        if (got.shape.join(",") !== want.shape.join(","))
          throw new Error(`${name}/${output}: shape [${got.shape}], expected [${want.shape}]`);
        assertAllClose(got.data, want.data, toleranceOf(manifest, output, want), `${name}/${output}`);
      }
    });
  });
}
