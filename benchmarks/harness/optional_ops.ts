// Ops and blocks that other work adds over time (matmul, conv2d, the UNet's ResnetBlock2D). Cases that need
// them look them up here and are skipped, with the reason printed, while they are missing, so the
// suite runs at every stage of the project.
import type { Tensor } from "@spo/wgpu-tensor";
import * as library from "@spo/wgpu-tensor";

export type MatmulFn = (a: Tensor, b: Tensor, options?: { transposeA?: boolean; transposeB?: boolean }) => Tensor;
export type LinearFn = (x: Tensor, weight: Tensor, bias?: Tensor) => Tensor;
export type Conv2dFn = (x: Tensor, weight: Tensor, bias?: Tensor, options?: { padding?: number | [number, number] }) => Tensor;

interface Source {
  /** Exported from `@spo/wgpu-tensor` under this name, once it is public (model blocks never are). */
  name: string;
  /** Until then: the module that defines it, relative to this file. */
  module: string;
}

const SOURCES: Record<string, Source> = {
  matmul: { name: "matmul", module: "../../packages/wgpu-tensor/ops/matmul/matmul.ts" },
  linear: { name: "linear", module: "../../packages/wgpu-tensor/ops/matmul/matmul.ts" },
  conv2d: { name: "conv2d", module: "../../packages/wgpu-tensor/ops/conv2d/conv2d.ts" },
  ResnetBlock2D: { name: "ResnetBlock2D", module: "../../packages/diffusion-unet/unet/resnet.ts" },
};

const found = new Map<string, (...args: never[]) => unknown>();
const missing = new Map<string, string>();

/**
 * Looks every optional op up once: in the library's public exports, else in the op's own module
 * (work not yet exported). Call before running cases.
 */
export async function loadOptionalOps(): Promise<void> {
  for (const [key, source] of Object.entries(SOURCES)) {
    const exported = (library as unknown as Record<string, unknown>)[source.name];
    if (typeof exported === "function") {
      found.set(key, exported as (...args: never[]) => unknown);
      continue;
    }
    try {
      const module = (await import(source.module)) as Record<string, unknown>;
      const value = module[source.name];
      if (typeof value === "function") found.set(key, value as (...args: never[]) => unknown);
      else missing.set(key, `${source.module} does not export ${source.name}`);
    } catch (error) {
      missing.set(
        key,
        `${source.name} is not in @spo/wgpu-tensor and ${source.module} did not load (${(error as Error).message.split("\n")[0]})`,
      );
    }
  }
}

/** Why an op is unavailable, or null when it can be used. */
export function missingReason(key: keyof typeof SOURCES | string): string | null {
  if (found.has(key)) return null;
  return missing.get(key) ?? `${key} was not looked up (loadOptionalOps() not called)`;
}

/** The op, typed by the caller; throws if it is missing (check `missingReason` first). */
export function optionalOp<F>(key: string): F {
  const op = found.get(key);
  if (!op) throw new Error(`Cannot use ${key}: ${missingReason(key)}`);
  return op as unknown as F;
}
