/**
 * Everything in `@spo/vae`, plus loading from disk in Node: diffusers folders (`vae/`), single-file
 * SD checkpoints, TAESD folders and files.
 *
 * @example
 * ```ts
 * import { loadAutoencoderKL } from "@spo/vae/node";
 * const vae = await loadAutoencoderKL("/models/stable-diffusion-v1-5");
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export {
  loadAutoencoderKL,
  loadAutoencoderKLFromSingleFile,
  loadTAESD,
  loadTAESDDecoder,
  type VaeFileOptions,
} from "./loading/vae_loader_node.ts";
