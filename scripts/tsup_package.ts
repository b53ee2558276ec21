// The one build configuration every package's tsup.config.ts uses, so all packages publish alike:
// ES modules for ES2022 with source maps and .d.ts files; other @spo packages, Node built-ins (their
// `node:` prefix kept), the package's own `#…` imports and its npm dependencies stay imports. The
// entries come from package.json: every `exports` (and `imports`) target built to dist/ is built
// from the TypeScript file its source condition names, so the two cannot drift apart.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Options } from "tsup";

/** The export condition that points at a package's TypeScript sources inside this repository. */
export const SOURCE_CONDITION = "@spo/source";

/**
 * Put at the top of every .d.ts: the declarations use `Symbol.dispose` and `AsyncDisposable`
 * (`using`), which TypeScript declares in its esnext.disposable library, not in a user's ES2022 one.
 */
const DISPOSABLE_LIB = '/// <reference lib="esnext.disposable" />';

/** What a package adds to the shared build. */
export interface PackageBuildOptions {
  /** Lines put at the top of every .d.ts file, e.g. a `/// <reference types="…" />` directive. */
  dtsBanner?: string;
  /**
   * Resolve other @spo packages through their built .d.ts (as a user's tsc does) rather than their
   * sources: checks the published declarations and is several times faster. Default: true.
   */
  usesBuiltDependencies?: boolean;
}

/**
 * The entries of the package in `packageDir` as `{ "dist path without .js": "source path" }`:
 * each conditions object of its `exports` and `imports` with a source condition and a `./dist/…js`
 * target (under `import` or `default`).
 */
export function entriesOf(packageDir: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const entries: Record<string, string> = {};
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    const conditions = value as Record<string, unknown>;
    const source = conditions[SOURCE_CONDITION];
    const target = conditions.import ?? conditions.default;
    if (typeof source === "string" && typeof target === "string" && target.startsWith("./dist/") && target.endsWith(".js")) {
      entries[target.slice("./dist/".length, -".js".length)] = source.replace(/^\.\//, "");
      return;
    }
    for (const nested of Object.values(conditions)) visit(nested);
  };
  visit(manifest.exports);
  visit(manifest.imports);
  if (Object.keys(entries).length === 0)
    throw new Error(`Cannot build ${manifest.name}: its package.json exports nothing built to ./dist/`);
  return entries;
}

/** tsup options for the package in the current folder (tsup runs in the package's folder). */
export function packageConfig(options: PackageBuildOptions = {}): Options {
  return {
    entry: entriesOf(process.cwd()),
    format: ["esm"],
    dts: {
      banner: [DISPOSABLE_LIB, options.dtsBanner].filter(Boolean).join("\n"),
      compilerOptions: options.usesBuiltDependencies === false ? {} : { customConditions: [] },
    },
    target: "es2022",
    platform: "neutral",
    external: [/^@spo\//, /^node:/, /^#/],
    removeNodeProtocol: false,
    clean: true,
    sourcemap: true,
    splitting: true,
  };
}
