/** Largest workgroup count per dimension every WebGPU device allows. */
const MAX_PER_DIMENSION = 65535;

/**
 * Workgroup counts covering `invocations` threads in 1D groups of `workgroupSize`, folded into a
 * second dimension when one is not enough. Pair with `LINEAR_INDEX` in the shader.
 */
export function linearGrid(invocations: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= MAX_PER_DIMENSION) return [groups, 1, 1];
  const rows = Math.ceil(groups / MAX_PER_DIMENSION);
  return [Math.ceil(groups / rows), rows, 1];
}

/** Entry-point arguments and the flat invocation index matching `linearGrid`. */
export function linearMain(workgroupSize: number): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * nwg.x + wid.x) * ${workgroupSize}u + lid;`;
}
