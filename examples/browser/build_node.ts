/**
 * Builds the browser examples as static files: bundles each page's script with esbuild (ES2022,
 * for browsers, the packages' browser entries: no Node built-ins, no Dawn), copies the HTML and CSS,
 * and copies the toy world's shipped model folder to `models/toy/` where the pages look for it.
 * `node --import tsx examples/browser/build_node.ts [outDir]` (default: examples/browser/dist).
 *
 * @module
 */
import { cp, mkdir, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SOURCE_CONDITION } from "../../scripts/tsup_package.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The page scripts, each bundled to `<name>.js` beside the HTML. */
export const PAGE_ENTRIES = { generate: join(HERE, "src", "generate_page.ts"), train: join(HERE, "src", "train_page.ts") } as const;

/** Default output folder of the static build. */
export const DEFAULT_OUT_DIR = join(HERE, "dist");

/** Where the toy world's shipped base model lives (a diffusers folder), if it has been shipped. */
export const TOY_MODEL_FOLDER = resolve(HERE, "../../packages/toyworld/assets/base_model");

/** Options of {@link buildExamples}. */
export interface BuildOptions {
  /** Output folder (emptied first). */
  outDir?: string;
  /** The model folder to copy to `models/toy/` (default: the toy world's shipped one); `null` copies none. */
  toyModel?: string | null;
  /** Minify the bundles (default true). */
  minify?: boolean;
}

/** What {@link buildExamples} made. */
export interface BuildResult {
  outDir: string;
  /** Whether a toy model folder was copied to `models/toy/`. */
  hasToyModel: boolean;
}

/**
 * Bundles the pages into `outDir`. The workspace packages resolve to their TypeScript sources
 * (their `source` export condition, named in one place: scripts/tsup_package.ts), so the build
 * needs no prior `npm run build`; the pages import only the packages' public main entries.
 *
 * @example
 * ```ts
 * const { outDir } = await buildExamples({ outDir: "/tmp/site" });
 * ```
 */
export async function buildExamples(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: PAGE_ENTRIES,
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    minify: options.minify ?? true,
    metafile: true,
    logLevel: "warning",
    conditions: [SOURCE_CONDITION],
  });
  const external = Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((entry) => entry.external);
  if (external.length > 0) {
    throw new Error(`Cannot build the browser examples: the bundle still imports ${external.map((e) => e.path).join(", ")}`);
  }
  for (const name of await readdir(join(HERE, "static"))) await cp(join(HERE, "static", name), join(outDir, name));
  const toyModel = options.toyModel === undefined ? TOY_MODEL_FOLDER : options.toyModel;
  const hasToyModel = toyModel !== null && existsSync(join(toyModel, "model_index.json"));
  if (hasToyModel) await cp(toyModel!, join(outDir, "models", "toy"), { recursive: true });
  return { outDir, hasToyModel };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outDir, hasToyModel } = await buildExamples({ outDir: process.argv[2] });
  console.log(`Built the browser examples in ${outDir}`);
  if (!hasToyModel) console.log(`No toy model at ${TOY_MODEL_FOLDER}: the pages will ask for a model URL or folder`);
}
