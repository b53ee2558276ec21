/**
 * Key layouts of AutoencoderKL checkpoints, as maps from the model's (diffusers) parameter names
 * to a file's names.
 *
 * - diffusers: the names themselves;
 * - legacy diffusers (older `vae/diffusion_pytorch_model.*`): the mid attention as `query`, `key`,
 *   `value`, `proj_attn` instead of `to_q`, `to_k`, `to_v`, `to_out.0`;
 * - LDM / single-file (`first_stage_model.` in A1111 checkpoints): `down.i.block.j`,
 *   `up.(n−1−i).block.j`, `mid.block_1`, `mid.attn_1.{norm,q,k,v,proj_out}` (q/k/v/proj_out as
 *   1×1 convs), `nin_shortcut`, `norm_out`.
 *
 * @module
 */

const LEGACY_ATTENTION: Record<string, string> = { to_q: "query", to_k: "key", to_v: "value", "to_out.0": "proj_attn" };
const LDM_ATTENTION: Record<string, string> = { group_norm: "norm", to_q: "q", to_k: "k", to_v: "v", "to_out.0": "proj_out" };

/**
 * The legacy diffusers name of a parameter (only mid-block attention projections differ).
 *
 * @example
 * ```ts
 * legacyVaeName("decoder.mid_block.attentions.0.to_out.0.bias"); // "decoder.mid_block.attentions.0.proj_attn.bias"
 * ```
 */
export function legacyVaeName(name: string): string {
  return name.replace(
    /(mid_block\.attentions\.0\.)(to_q|to_k|to_v|to_out\.0)\./,
    (_, head: string, projection: string) => `${head}${LEGACY_ATTENTION[projection]}.`,
  );
}

/**
 * The LDM (CompVis, A1111 single-file) name of a diffusers VAE parameter, without the
 * `first_stage_model.` prefix; `numUpBlocks` reverses the decoder's level numbering.
 *
 * @example
 * ```ts
 * ldmVaeName("decoder.up_blocks.0.resnets.2.conv1.weight", 4); // "decoder.up.3.block.2.conv1.weight"
 * ldmVaeName("encoder.mid_block.attentions.0.to_q.weight", 4); // "encoder.mid.attn_1.q.weight"
 * ```
 */
export function ldmVaeName(name: string, numUpBlocks: number): string {
  return name
    .replace(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\./, "encoder.down.$1.block.$2.")
    .replace(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\./, "encoder.down.$1.downsample.")
    .replace(
      /^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\./,
      (_, i: string, j: string) => `decoder.up.${numUpBlocks - 1 - Number(i)}.block.${j}.`,
    )
    .replace(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\./, (_, i: string) => `decoder.up.${numUpBlocks - 1 - Number(i)}.upsample.`)
    .replace(/\.mid_block\.resnets\.0\./, ".mid.block_1.")
    .replace(/\.mid_block\.resnets\.1\./, ".mid.block_2.")
    .replace(
      /\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\./,
      (_, part: string) => `.mid.attn_1.${LDM_ATTENTION[part]}.`,
    )
    .replace(/\.conv_shortcut\./, ".nin_shortcut.")
    .replace(/\.conv_norm_out\./, ".norm_out.");
}
