// The packages as a user gets them: built, packed, installed with pnpm into a new project outside the
// repository, then run with plain Node, type-checked with tsc (no skipLibCheck), bundled for the
// browser with esbuild (no special flags) and run in Chromium. See README.md beside this file.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type BrowserSession, openBrowser } from "../../packages/wgpu-tensor/testing/browser_node.ts";
import { withDependencies, workspacePackages } from "../../scripts/build_packages.ts";
import type { CheckReport } from "./checks.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TEMPLATE = fileURLToPath(new URL("./", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const PNPM = ["--yes", "pnpm@12.4.2"];
/** What the checks import, and @spo/trainer (the mission's `pnpm add @spo/trainer`). */
const DIRECT = ["@spo/wgpu-tensor", "@spo/diffusion-unet", "@spo/clip", "@spo/vae", "@spo/pipeline", "@spo/trainer"];
/** Those and every @spo package they depend on. */
const PACKAGES = [...withDependencies(workspacePackages(), DIRECT)];
const APP_FILES = ["checks.ts", "tiny_configs.ts", "node_main.ts", "browser_main.ts", "tsconfig.node.json", "tsconfig.browser.json"];
const TIMEOUT_MS = 600_000;

/** Worked out by hand: [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]]. */
const MATMUL = [4, 5, 10, 11];
/** CLIP's ids of "<|startoftext|>a photo of a cat<|endoftext|>" (openai/CLIP's vocabulary). */
const CAT_TOKENS = [49406, 320, 1125, 539, 320, 2368, 49407];

let work: string;
let app: string;
let nodeReport: CheckReport | undefined;
const timings: string[] = [];

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: "" } });
  timings.push(`${[command.split("/").pop(), ...args.slice(0, 3)].join(" ")}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function assertRan(result: SpawnSyncReturns<string>, what: string): void {
  assert.equal(result.status, 0, `${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

function tarball(name: string): string {
  return join(work, "tarballs", `${name.slice(1).replace("/", "-")}-0.1.0.tgz`);
}

/** Where pnpm put an installed package (direct or not) in its virtual store. */
function installedFolder(name: string, store: readonly string[]): string {
  const entry = store.find((e) => e.startsWith(`${name.replace("/", "+")}@`));
  assert.ok(entry, `${name} is installed`);
  return join(app, "node_modules", ".pnpm", entry, "node_modules", name);
}

/** Every JavaScript file under `dir`, relative to it. */
function jsFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) return jsFiles(dir, path);
    return path.endsWith(".js") ? [path] : [];
  });
}

/** Source maps beside every built file, Node built-ins imported with their `node:` prefix. */
function assertConsistentBuild(name: string, folder: string): void {
  const bareBuiltin = new RegExp(`from ["'](${builtinModules.filter((m) => !m.startsWith("_")).join("|")})["']`);
  for (const file of jsFiles(join(folder, "dist"))) {
    assert.ok(existsSync(join(folder, "dist", `${file}.map`)), `${name} ships a source map for dist/${file}`);
    assert.doesNotMatch(
      readFileSync(join(folder, "dist", file), "utf8"),
      bareBuiltin,
      `${name}'s dist/${file} imports Node built-ins with their node: prefix`,
    );
  }
}

/** Conditions a user's tooling may set; the repository's own one points at sources that are not shipped. */
const USER_CONDITIONS = new Set(["types", "import", "default", "node", "browser"]);
const REPOSITORY_CONDITION = "@spo/source";

/** Every export and import target under a condition a user may set is a shipped file. */
function assertShippedTargets(name: string, folder: string, targets: unknown, path = ""): void {
  if (typeof targets === "string") {
    assert.ok(existsSync(join(folder, targets)), `${name} maps ${path} to a shipped file (${targets})`);
    return;
  }
  if (typeof targets !== "object" || targets === null) return;
  for (const [key, value] of Object.entries(targets)) {
    const isCondition = !key.startsWith(".") && !key.startsWith("#");
    if (isCondition && key === REPOSITORY_CONDITION) continue;
    if (isCondition)
      assert.ok(
        USER_CONDITIONS.has(key),
        `${name} maps ${path} under the condition "${key}", which other tools may set; only ${REPOSITORY_CONDITION} may point at unshipped sources`,
      );
    if (key.includes("*")) continue;
    assertShippedTargets(name, folder, value, `${path} ${key}`.trim());
  }
}

function assertExpectedReport(report: CheckReport): void {
  assert.deepEqual(report.matmul, MATMUL);
  assert.deepEqual(report.unetStepShape, [1, 4, 8, 8]);
  assert.equal(report.unetStepIsFinite, true);
  assert.deepEqual(report.tokens, CAT_TOKENS);
  assert.deepEqual(report.imageSize, [32, 32]);
  assert.ok(report.imageDistinctBytes > 16, `the image holds only ${report.imageDistinctBytes} distinct byte values`);
  assert.equal(report.imageAlphaIsOpaque, true);
}

before(
  async () => {
    // the root build script, as a new contributor runs it (no global pnpm needed), for these packages only
    assertRan(run("npm", ["run", "--silent", "build", "--", ...PACKAGES], ROOT), "npm run build");
    work = mkdtempSync(join(tmpdir(), "spo-consumer-"));
    const filters = PACKAGES.flatMap((name) => ["--filter", name]);
    assertRan(run("npx", [...PNPM, "-r", ...filters, "pack", "--pack-destination", join(work, "tarballs")], ROOT), "pnpm pack");
    app = join(work, "app");
    mkdirSync(app);
    for (const file of APP_FILES) cpSync(join(TEMPLATE, file), join(app, file));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
    // The tarballs stand in for the registry: every @spo dependency, direct or not, resolves to one.
    // Other packages come from pnpm's store, which the repository's own install filled (the registry
    // is asked only for what the store lacks: --prefer-offline).
    const overrides = PACKAGES.map((name) => `  "${name}": "file:${tarball(name)}"`).join("\n");
    writeFileSync(join(app, "pnpm-workspace.yaml"), `overrides:\n${overrides}\n`);
  },
  { timeout: TIMEOUT_MS },
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`consumer test timings: ${timings.join("; ")}`);
});

describe("the packed packages in a new project", { concurrency: false }, () => {
  test("install with pnpm add as a browser project would: exit 0, no build to approve, no Dawn", { timeout: TIMEOUT_MS }, () => {
    const added = run("npx", [...PNPM, "add", "--prefer-offline", ...DIRECT.map((name) => `${name}@file:${tarball(name)}`)], app);
    assertRan(added, "pnpm add of the packages");
    assert.doesNotMatch(added.stdout + added.stderr, /ERR_PNPM|Ignored build scripts/);
    const store = readdirSync(join(app, "node_modules", ".pnpm"));
    assert.deepEqual(
      store.filter((entry) => /^(webgpu|fast-check|pure-rand)@/.test(entry)),
      [],
      "a browser project downloads neither Dawn nor the testing libraries",
    );
    // Node users add Dawn themselves; its install script only matters on macOS
    const dawn = run("npx", [...PNPM, "add", "--prefer-offline", "--allow-build=webgpu", "webgpu@0.6.2", "@types/node@20.19.43"], app);
    assertRan(dawn, "pnpm add webgpu");
  });

  test("every package ships its LICENSE, source maps, node:-prefixed imports and only shipped export targets", () => {
    const store = readdirSync(join(app, "node_modules", ".pnpm"));
    for (const name of PACKAGES) {
      const folder = installedFolder(name, store);
      assert.ok(existsSync(join(folder, "LICENSE")), `${name} ships a LICENSE`);
      assertConsistentBuild(name, folder);
      const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
      for (const [subpath, target] of Object.entries(manifest.exports as Record<string, unknown>)) {
        if (typeof target !== "object" || target === null) continue;
        for (const field of ["types", "import"]) {
          const file = (target as Record<string, string>)[field];
          assert.ok(file && existsSync(join(folder, file)), `${name} exports "${subpath}" with a ${field} file that is shipped (${file})`);
        }
      }
      assertShippedTargets(name, folder, { ...manifest.exports, ...manifest.imports });
    }
    // clip's ftfy port and generated tables travel with their licences
    const clip = installedFolder("@spo/clip", store);
    for (const file of ["THIRD_PARTY_NOTICES.md", "licenses/ftfy-Apache-2.0.txt", "assets/clip/LICENSE"]) {
      assert.ok(existsSync(join(clip, file)), `@spo/clip ships ${file}`);
    }
  });

  test("tsc compiles the Node script without skipLibCheck and plain node runs it", { timeout: TIMEOUT_MS }, () => {
    assertRan(run(join(BIN, "tsc"), ["-p", "tsconfig.node.json"], app), "tsc -p tsconfig.node.json");
    const ran = run(process.execPath, [join("out-node", "node_main.js")], app);
    assertRan(ran, "node out-node/node_main.js");
    nodeReport = JSON.parse(ran.stdout.trim().split("\n").at(-1)!) as CheckReport;
    assertExpectedReport(nodeReport);
  });

  test("tsc type-checks the browser script without skipLibCheck and without Node's types", { timeout: TIMEOUT_MS }, () => {
    assertRan(run(join(BIN, "tsc"), ["-p", "tsconfig.browser.json"], app), "tsc -p tsconfig.browser.json");
  });

  test("esbuild bundles it for the browser with no special flags, and the bundle runs in Chromium", { timeout: TIMEOUT_MS }, async () => {
    const web = join(app, "web");
    const bundled = run(
      join(BIN, "esbuild"),
      ["browser_main.ts", "--bundle", "--format=esm", `--outfile=${join(web, "bundle.js")}`, `--metafile=${join(app, "meta.json")}`],
      app,
    );
    assertRan(bundled, "esbuild --bundle");
    const inputs = Object.keys(JSON.parse(readFileSync(join(app, "meta.json"), "utf8")).inputs as Record<string, unknown>);
    assert.deepEqual(
      inputs.filter((path) => /node_modules\/(\.pnpm\/)?(webgpu|fast-check|pure-rand)[@/]/.test(path)),
      [],
      "the bundle holds neither Dawn nor the testing libraries",
    );
    // nor a copy of them built into a package's runtime chunk (esbuild names every inlined module)
    assert.doesNotMatch(readFileSync(join(web, "bundle.js"), "utf8"), /fast-check|pure-rand|dawn\.node/);
    // a web app serves @spo/clip's vocabulary as static files
    cpSync(join(app, "node_modules", "@spo", "clip", "assets", "clip"), join(web, "clip"), { recursive: true });
    let session: BrowserSession | undefined;
    try {
      session = await openBrowser({ files: web, timeoutMs: TIMEOUT_MS });
      const started = performance.now();
      // the test server sends no MIME types, so the page imports the bundle's text as a JavaScript blob
      const json = (await session.page.evaluate(`(async () => {
        const code = await (await fetch("/files/bundle.js")).text();
        const bundle = await import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
        return JSON.stringify(await bundle.runInPage("files/clip/"));
      })()`)) as string;
      timings.push(`Chromium run: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const page = JSON.parse(json) as CheckReport;
      assertExpectedReport(page);
      if (nodeReport)
        assert.deepEqual({ ...page, adapter: "", imageDistinctBytes: 0 }, { ...nodeReport, adapter: "", imageDistinctBytes: 0 });
    } finally {
      await session?.close();
    }
  });
});
