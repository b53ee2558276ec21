/**
 * Node-only entry of @spo/diffusion-unet: everything of `mod.ts` plus loaders that read model
 * folders and single-file checkpoints from disk.
 * @module
 */
export * from "./mod.ts";
export { loadUNetFromFolder, loadUNetFromSingleFile, type LoadUNetOptions } from "./loading/load_unet_node.ts";
