import type { TaesdVariant } from "./taesd_config.ts";

/** One entry of taesd.py's `nn.Sequential`; its index is its checkpoint key. */
export type TaesdLayer =
  | { kind: "conv"; inChannels: number; outChannels: number; stride: 1 | 2; bias: boolean }
  | { kind: "block"; inChannels: number; outChannels: number }
  | { kind: "relu" }
  | { kind: "upsample" }
  | { kind: "clamp" };

const conv = (inChannels: number, outChannels: number, stride: 1 | 2 = 1, bias = true): TaesdLayer => ({
  kind: "conv",
  inChannels,
  outChannels,
  stride,
  bias,
});
const block = (channels: number): TaesdLayer => ({ kind: "block", inChannels: channels, outChannels: channels });
const blocks = (count: number, channels: number): TaesdLayer[] => Array.from({ length: count }, () => block(channels));
const RELU: TaesdLayer = { kind: "relu" };
const UPSAMPLE: TaesdLayer = { kind: "upsample" };

/**
 * taesd.py `Encoder` (or `F32Encoder`): image [B, 3, H, W] → latents [B, C, H/8, W/8] (/32).
 *
 * @example
 * ```ts
 * taesdEncoderLayers(4, null)[14]; // { kind: "conv", inChannels: 64, outChannels: 4, stride: 1, bias: true }
 * ```
 */
export function taesdEncoderLayers(latentChannels: number, variant: TaesdVariant): TaesdLayer[] {
  const down = (): TaesdLayer[] => [conv(64, 64, 2, false), ...blocks(3, 64)];
  const stem = variant === "f32" ? [conv(3, 32, 2), RELU, conv(32, 64, 2), RELU, block(64)] : [conv(3, 64), block(64)];
  // three stride-2 levels in both variants (the f32 stem downsamples 4× more)
  return [...stem, ...down(), ...down(), ...down(), conv(64, latentChannels)];
}

/**
 * taesd.py `Decoder` (or `F32Decoder`): latents → image in about [0, 1], ×8 (×32).
 *
 * @example
 * ```ts
 * taesdDecoderLayers(4, null)[0]; // { kind: "clamp" } — tanh(x / 3) · 3
 * ```
 */
export function taesdDecoderLayers(latentChannels: number, variant: TaesdVariant): TaesdLayer[] {
  const level = (width: number, next: number): TaesdLayer[] => [...blocks(3, width), UPSAMPLE, conv(width, next, 1, false)];
  const widths = variant === "f32" ? [256, 128, 64, 64, 64, 64] : [64, 64, 64, 64];
  const layers: TaesdLayer[] = [{ kind: "clamp" }, conv(latentChannels, widths[0]), RELU];
  for (let i = 0; i < widths.length - 1; i++) layers.push(...level(widths[i], widths[i + 1]));
  layers.push(block(64), conv(64, 3));
  return layers;
}
