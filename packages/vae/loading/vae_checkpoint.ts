import type { SafetensorsReader } from "@spo/safetensors";
import type { LoadReport, Module } from "@spo/wgpu-tensor";
import type { AutoencoderKL } from "../autoencoder_kl/autoencoder_kl.ts";
import { TAESD, type TAESDDecoder, TAESDEncoder } from "../taesd/taesd.ts";
import { loadWeights } from "@spo/wgpu-tensor";
import { ldmVaeName, legacyVaeName } from "./vae_key_map.ts";

/** Options of the VAE and TAESD loaders. */
export interface VaeLoadOptions {
  /** Prefix of the model's keys in the file. Default: detected (none, `first_stage_model.` or `vae.`). */
  prefix?: string;
  /** Fail before loading anything on missing, unexpected or mis-shaped keys. Default true. */
  strict?: boolean;
  onProgress?: (loaded: number, total: number, name: string) => void;
}

/** A way to name the model's parameters in a file, and which file keys belong to the model. */
interface Layout {
  fileNameOf: (name: string) => string;
  scope: string[];
}

function pickLayout(model: Module, reader: Pick<SafetensorsReader, "has">, layouts: Layout[]): Layout {
  const names = [...model.namedParameters()].map(([name]) => name);
  // the layout under which the file holds the most parameters (ties: the first listed)
  let best = layouts[0];
  let bestCount = -1;
  for (const layout of layouts) {
    const count = names.filter((name) => reader.has(layout.fileNameOf(name))).length;
    if (count > bestCount) [best, bestCount] = [layout, count];
  }
  return best;
}

function load(model: Module, reader: SafetensorsReader, layout: Layout, options: VaeLoadOptions): Promise<LoadReport> {
  const isRelevant = (fileName: string) => layout.scope.some((prefix) => fileName.startsWith(prefix));
  return loadWeights(model, reader, { fileNameOf: layout.fileNameOf, isRelevant, strict: options.strict, onProgress: options.onProgress });
}

const VAE_ROOTS = ["encoder.", "decoder.", "quant_conv.", "post_quant_conv."];

/**
 * Loads an `AutoencoderKL` from a safetensors reader (a file in Node, a URL in browsers),
 * streaming tensor by tensor: diffusers files, legacy diffusers files (`query`/`key`/`value`/
 * `proj_attn`), and the VAE of single-file SD checkpoints (`first_stage_model.` + LDM names, the
 * attention's 1×1 conv weights loaded into its Linears). Other models' keys are left alone.
 *
 * @example
 * ```ts
 * const vae = AutoencoderKL.fromConfig(config, { init: "meta" });
 * await loadAutoencoderKLWeights(vae, await readSafetensorsFile("v1-5-pruned-emaonly.safetensors"));
 * ```
 */
export function loadAutoencoderKLWeights(vae: AutoencoderKL, reader: SafetensorsReader, options: VaeLoadOptions = {}): Promise<LoadReport> {
  const prefixes = options.prefix !== undefined ? [options.prefix] : ["", "first_stage_model.", "vae."];
  const numUpBlocks = vae.config.blockOutChannels.length;
  const layouts = prefixes.flatMap((prefix): Layout[] => {
    const scope = VAE_ROOTS.map((root) => prefix + root);
    return [
      { fileNameOf: (name) => prefix + name, scope },
      { fileNameOf: (name) => prefix + legacyVaeName(name), scope },
      { fileNameOf: (name) => prefix + ldmVaeName(name, numUpBlocks), scope },
    ];
  });
  return load(vae, reader, pickLayout(vae, reader, layouts), options);
}

/** diffusers `AutoencoderTiny` keys: `encoder.layers.N`, `decoder.layers.(N−1)` (its clamp has no index). */
function tinyName(part: "encoder" | "decoder", name: string): string {
  return name.replace(/^(\d+)\./, (_, index: string) => `${part}.layers.${part === "decoder" ? Number(index) - 1 : Number(index)}.`);
}

/**
 * Loads TAESD weights — into a `TAESD` (both halves), a `TAESDEncoder` or a `TAESDDecoder` —
 * from taesd.py checkpoints converted to safetensors (`taesd_encoder` / `taesd_decoder` keys, alone
 * or under `encoder.` / `decoder.`) or from diffusers' `AutoencoderTiny` files (`madebyollin/taesd`
 * on the hub: `encoder.layers.N`, `decoder.layers.N`). F16 weights are converted at load.
 *
 * @example
 * ```ts
 * const decoder = new TAESDDecoder(taesdConfigFromJson({}), { init: "meta" });
 * await loadTaesdWeights(decoder, await readSafetensorsFile("taesd_decoder.safetensors"));
 * ```
 */
export function loadTaesdWeights(
  model: TAESD | TAESDEncoder | TAESDDecoder,
  reader: SafetensorsReader,
  options: VaeLoadOptions = {},
): Promise<LoadReport> {
  const prefix = options.prefix ?? "";
  const layouts: Layout[] = [];
  if (model instanceof TAESD) {
    const scope = [`${prefix}encoder.`, `${prefix}decoder.`];
    const diffusers = (name: string) =>
      name.replace(/^(encoder|decoder)\.(.*)$/, (_, part: "encoder" | "decoder", rest: string) => tinyName(part, rest));
    layouts.push({ fileNameOf: (name) => prefix + name, scope }, { fileNameOf: (name) => prefix + diffusers(name), scope });
  } else {
    const part = model instanceof TAESDEncoder ? "encoder" : "decoder";
    layouts.push(
      { fileNameOf: (name) => prefix + name, scope: [prefix] },
      { fileNameOf: (name) => `${prefix}${part}.${name}`, scope: [`${prefix}${part}.`] },
      { fileNameOf: (name) => prefix + tinyName(part, name), scope: [`${prefix}${part}.`] },
    );
  }
  return load(model, reader, pickLayout(model, reader, layouts), options);
}
