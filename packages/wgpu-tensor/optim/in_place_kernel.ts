import { runProgram } from "../ops/run_op.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { linearGrid, linearMain } from "../wgsl/grid.ts";
import type { Params } from "../wgsl/params.ts";

/** A tensor an optimizer kernel reads (`read`) or updates in place (`read_write`). */
export interface UpdateOperand {
  name: string;
  tensor: Tensor;
  access: "read" | "read_write";
}

/**
 * Runs `body` once per element of the first operand, updating tensors in place: optimizer steps
 * must not allocate a new copy of every parameter and moment. `body` sees each operand by name as
 * an f32 array indexed by `i`, and the parameters as `p.<field>`; `params` must have `size` first.
 */
export function runInPlace(key: string, operands: readonly UpdateOperand[], params: Params, body: string): void {
  const first = operands[0].tensor;
  const device = first.device;
  device.assertUsable(key);
  const buffers = operands.map((operand) => operand.tensor.storageFor(key).buffer);
  const declarations = operands
    .map((operand, j) => `@group(0) @binding(${j + 1}) var<storage, ${operand.access}> ${operand.name}: array<f32>;`)
    .join("\n");
  runProgram(
    device,
    {
      key,
      wgsl: () => `${params.struct()}${declarations}
${linearMain(256)}
  let i = index;
  if (i >= p.size) { return; }
${body}
}`,
      params: params.pack(),
      workgroups: linearGrid(first.size, 256),
      bindings: operands.map((_, input) => ({ input })),
    },
    buffers,
    buffers[0],
  );
}
