/** `[2, 3]`, as the errors of @spo/wgpu-tensor write shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
