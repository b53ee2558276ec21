import { interpolate, type InterpolateOptions, type ResizeMode, tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

const MODES: readonly string[] = ["nearest", "nearest-exact", "bilinear", "bicubic"];

type Pair = number | [number, number];

/** One `torch.nn.functional.interpolate` call's keyword arguments, as the manifest stores them. */
interface TorchInterpolateConfig {
  size?: number | number[] | null;
  scale_factor?: number | number[] | null;
  mode?: string;
  align_corners?: boolean | null;
  recompute_scale_factor?: boolean | null;
  antialias?: boolean;
}

function asPair(value: number | number[], what: string): Pair {
  if (typeof value === "number") return value;
  if (value.length !== 2) throw new UnsupportedCaseError(`${what} [${value}] is not 2-D (only NCHW resizing is implemented)`);
  return [value[0], value[1]];
}

/** Translates PyTorch's keyword arguments into `interpolate` options, refusing what is not implemented. */
export function interpolateOptions(config: TorchInterpolateConfig, name: string): InterpolateOptions {
  const mode = config.mode ?? "nearest";
  if (!MODES.includes(mode)) throw new UnsupportedCaseError(`${name}: mode "${mode}" is not implemented`);
  if (config.antialias) throw new UnsupportedCaseError(`${name}: antialias=True is not implemented`);
  const options: InterpolateOptions = { mode: mode as ResizeMode };
  if (config.size !== undefined && config.size !== null) options.size = asPair(config.size, `${name}: size`);
  if (config.scale_factor !== undefined && config.scale_factor !== null)
    options.scaleFactor = asPair(config.scale_factor, `${name}: scale_factor`);
  if (config.align_corners !== undefined && config.align_corners !== null) options.alignCorners = config.align_corners;
  if (config.recompute_scale_factor) options.recomputeScaleFactor = true;
  return options;
}

/**
 * `resize` cases: for each entry `<name>` of the config (the keyword arguments of one
 * `F.interpolate` call), resize tensor `<name>.input` and produce `<name>.output`.
 */
export const resizeKind: KindRunner = {
  kind: "resize",
  async run(context) {
    const outputs = new Map<string, ProducedOutput>();
    for (const [name, config] of Object.entries(context.manifest.config)) {
      const options = interpolateOptions(config as TorchInterpolateConfig, name);
      const input = await context.float32(`${name}.input`);
      const x = tensor(input.data, input.shape, { device: context.device });
      const y = interpolate(x, options);
      try {
        outputs.set(`${name}.output`, { type: "tensor", data: await y.toArray(), shape: [...y.shape] });
      } finally {
        x.dispose();
        y.dispose();
      }
    }
    return outputs;
  },
};
