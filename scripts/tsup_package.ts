// The one build configuration every package's tsup.config.ts uses, so all packages publish alike:
// ES modules for ES2022 with source maps and .d.ts files; other @spo packages, Node built-ins (their
// `node:` prefix kept), the package's own `#…` imports and its npm dependencies stay imports.
import type { Options } from "tsup";

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

/** tsup options for a package whose entries are `{ outputName: sourcePath }`. */
export function packageConfig(entry: Record<string, string>, options: PackageBuildOptions = {}): Options {
  return {
    entry,
    format: ["esm"],
    dts: {
      banner: options.dtsBanner,
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
