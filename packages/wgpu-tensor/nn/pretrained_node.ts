/**
 * The one way a package loads a pretrained component (a UNet, a VAE, a text encoder…) from a
 * diffusers or transformers folder in Node: find the component's folder, read its config.json,
 * build the model, open the first weight file that exists and load it, closing the file and
 * disposing the model on failure. What differs per component (names, model class, key mapping,
 * file reader) comes in as a description.
 * @module
 */
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Module } from "./module.ts";

/** A weights reader that holds a file open until `close()`. */
export interface ClosableWeights {
  close(): Promise<void>;
}

/** What is loaded, and how. */
export interface PretrainedComponent<M extends Module, R extends ClosableWeights> {
  /** For error messages: "a UNet", "an AutoencoderKL". */
  what: string;
  /** The component's folder in a diffusers model folder ("unet", "vae", "text_encoder"): used when it holds a config.json. */
  subfolder: string;
  /** Weight file names to try in order; the first that exists is read. */
  weightFiles: readonly string[];
  /** Builds the model (usually with `init: "meta"`) from its config.json object. */
  build(config: Record<string, unknown>): M;
  /** Opens a weight file, e.g. `openWeights` of `@spo/torch-checkpoint/node` (safetensors and PyTorch files). */
  open(file: string): Promise<R>;
  /** Loads the opened weights into the model. */
  load(model: M, weights: R): Promise<unknown>;
}

/** The loaded model and where it came from. */
export interface LoadedComponent<M extends Module> {
  model: M;
  /** The folder that held config.json. */
  folder: string;
  config: Record<string, unknown>;
  weightsFile: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads `component` from `path`: a diffusers model folder (its `subfolder/`) or the component's own
 * folder, each holding config.json and one of `weightFiles`.
 *
 * @example
 * ```ts
 * const { model } = await loadPretrainedComponent("/models/stable-diffusion-v1-5", {
 *   what: "a UNet",
 *   subfolder: "unet",
 *   weightFiles: ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"],
 *   build: (config) => UNet2DConditionModel.fromConfig(config, { init: "meta" }),
 *   open: openWeights,
 *   load: (unet, weights) => loadWeights(unet, weights),
 * });
 * ```
 */
export async function loadPretrainedComponent<M extends Module, R extends ClosableWeights>(
  path: string | URL,
  component: PretrainedComponent<M, R>,
): Promise<LoadedComponent<M>> {
  const root = typeof path === "string" ? path : fileURLToPath(path);
  const nested = join(root, component.subfolder);
  const folder = (await exists(join(nested, "config.json"))) ? nested : root;
  const configPath = join(folder, "config.json");
  if (!(await exists(configPath))) {
    throw new Error(
      `Cannot load ${component.what} from "${root}": neither ${component.subfolder}/config.json nor config.json exists there`,
    );
  }
  let weightsFile: string | undefined;
  for (const name of component.weightFiles) {
    if (await exists(join(folder, name))) {
      weightsFile = join(folder, name);
      break;
    }
  }
  if (weightsFile === undefined) {
    const [first, ...others] = component.weightFiles;
    const alternatives = others.length > 0 ? ` (nor ${others.join(", ")})` : "";
    throw new Error(`Cannot load ${component.what} from "${folder}": ${first} does not exist${alternatives}`);
  }
  const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  const model = component.build(config);
  try {
    const weights = await component.open(weightsFile);
    try {
      await component.load(model, weights);
    } finally {
      await weights.close();
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, folder, config, weightsFile };
}
