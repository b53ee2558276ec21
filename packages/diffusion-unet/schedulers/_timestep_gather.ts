/**
 * `table[timesteps]` on the GPU: the per-row schedule lookup of `add_noise` when the timesteps are
 * a tensor (the training loop may draw them on the device). The core has no gather op yet; this
 * is the smallest one, an OpDef like any other, private to the schedulers.
 * @module
 */
import { DTypeError, type HostTensor, type OpDef, runOp, ShapeError, type Tensor } from "@spo/wgpu-tensor";

const WORKGROUP_SIZE = 64;

/** y[i] = table[clamp(timesteps[i], 0, N − 1)], for a 1-D f32 table and 1-D integer-valued timesteps. */
export const timestepGather: OpDef<Record<string, never>> = {
  name: "timestepGather",
  check([table, timesteps]) {
    if (table.shape.length !== 1 || timesteps.shape.length !== 1) {
      throw new ShapeError(
        "timestepGather",
        [table.shape, timesteps.shape],
        `Cannot gather timesteps [${timesteps.shape}] from table [${table.shape}]: both must be 1-D`,
      );
    }
    if (table.dtype !== "f32") {
      throw new DTypeError("timestepGather", [table.dtype], `Cannot gather from a ${table.dtype} table: it must be f32`);
    }
    if (timesteps.dtype === "f16") {
      throw new DTypeError("timestepGather", [timesteps.dtype], "Cannot gather with f16 timesteps: use i32, u32 or f32");
    }
    return { shape: [...timesteps.shape], dtype: "f32" };
  },
  kernel([table, timesteps], _attrs, output) {
    const params = new Uint32Array([output.shape[0], table.shape[0], 0, 0]);
    const key = `timestep_gather_${timesteps.dtype}`;
    return {
      key,
      wgsl: () => `struct Params { size: u32, tableSize: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> timesteps: array<${timesteps.dtype}>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.size) { return; }
  // out-of-range timesteps cannot throw on the GPU: clamp them into the table
  let t = clamp(i32(timesteps[i]), 0, i32(p.tableSize) - 1);
  y[i] = table[u32(t)];
}`,
      params: params.buffer,
      workgroups: [Math.ceil(output.shape[0] / WORKGROUP_SIZE), 1, 1],
    };
  },
  reference([table, timesteps]: readonly HostTensor[]): HostTensor {
    const last = table.data.length - 1;
    const data = timesteps.data.map((t) => table.data[Math.min(Math.max(Math.trunc(t), 0), last)]);
    return { shape: [...timesteps.shape], dtype: "f32", data };
  },
  backward: "notDifferentiable",
};

/** Looks up `table[t]` for each timestep of a 1-D tensor; see `timestepGather`. */
export function gatherTimesteps(table: Tensor, timesteps: Tensor): Tensor {
  return runOp(timestepGather, [table, timesteps], {});
}
