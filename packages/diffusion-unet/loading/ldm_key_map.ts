import type { UNetConfig } from "../unet/config.ts";

/** Prefix of UNet weights in original (CompVis/A1111) single-file checkpoints. */
export const LDM_UNET_PREFIX = "model.diffusion_model.";

const RESNET_RENAMES: Record<string, string> = {
  norm1: "in_layers.0",
  conv1: "in_layers.2",
  time_emb_proj: "emb_layers.1",
  norm2: "out_layers.0",
  conv2: "out_layers.3",
  conv_shortcut: "skip_connection",
};

const TOP_LEVEL: Record<string, string> = {
  "time_embedding.linear_1": "time_embed.0",
  "time_embedding.linear_2": "time_embed.2",
  conv_in: "input_blocks.0.0",
  conv_norm_out: "out.0",
  conv_out: "out.2",
};

/**
 * The original LDM name (without `model.diffusion_model.`) of a diffusers UNet parameter, for the
 * block layout of `config` (SD1.x: input_blocks / middle_block / output_blocks).
 * @example
 * ```ts
 * diffusersToLdmUNetKey("down_blocks.1.resnets.0.conv_shortcut.weight", config); // "input_blocks.4.0.skip_connection.weight"
 * ```
 */
export function diffusersToLdmUNetKey(name: string, config: UNetConfig): string {
  const layers = config.layersPerBlock;
  for (const [from, to] of Object.entries(TOP_LEVEL)) {
    if (name.startsWith(`${from}.`)) return to + name.slice(from.length);
  }
  let match = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name);
  if (match) {
    const [, block, kind, index, rest] = match;
    const slot = Number(block) * (layers + 1) + Number(index) + 1;
    return kind === "resnets" ? `input_blocks.${slot}.0.${renameResnet(rest)}` : `input_blocks.${slot}.1.${rest}`;
  }
  match = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(name);
  if (match) return `input_blocks.${(Number(match[1]) + 1) * (layers + 1)}.0.op.${match[2]}`;
  match = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name);
  if (match) {
    const [, kind, index, rest] = match;
    return kind === "resnets" ? `middle_block.${Number(index) * 2}.${renameResnet(rest)}` : `middle_block.1.${rest}`;
  }
  match = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(name);
  if (match) {
    const [, block, kind, index, rest] = match;
    const slot = Number(block) * (layers + 1) + Number(index);
    return kind === "resnets" ? `output_blocks.${slot}.0.${renameResnet(rest)}` : `output_blocks.${slot}.1.${rest}`;
  }
  match = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(name);
  if (match) {
    const block = Number(match[1]);
    const hasAttention = config.upBlockTypes[block] === "CrossAttnUpBlock2D";
    return `output_blocks.${block * (layers + 1) + layers}.${hasAttention ? 2 : 1}.conv.${match[2]}`;
  }
  throw new RangeError(`Cannot map UNet parameter "${name}" to an LDM checkpoint name: no rule matches`);
}

function renameResnet(rest: string): string {
  const [layer, ...tail] = rest.split(".");
  const renamed = RESNET_RENAMES[layer];
  if (!renamed) throw new RangeError(`Cannot map resnet parameter "${rest}" to an LDM name`);
  return [renamed, ...tail].join(".");
}

/**
 * diffusers name → LDM name for every parameter name given (the model's own names), checked to
 * be one-to-one. Invert it to load a single-file checkpoint.
 */
export function ldmKeyMap(names: Iterable<string>, config: UNetConfig): Map<string, string> {
  const map = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const name of names) {
    const ldm = diffusersToLdmUNetKey(name, config);
    const clash = seen.get(ldm);
    if (clash) throw new Error(`Cannot build the LDM key map: "${name}" and "${clash}" both map to "${ldm}"`);
    seen.set(ldm, name);
    map.set(name, ldm);
  }
  return map;
}
