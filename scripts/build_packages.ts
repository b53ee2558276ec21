// Builds the packages to their dist/ folders with tsup, dependencies first, two at a time. Needs no
// global pnpm: it runs the tsup of the root node_modules in each package folder.
//   npm run build                                                     every package
//   node --import tsx scripts/build_packages.ts @spo/pipeline         these and what they depend on
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;

/** A package of the workspace: its npm name, folder and the @spo packages it depends on. */
export interface WorkspacePackage {
  name: string;
  dir: string;
  deps: string[];
}
const tsup = join(root, "node_modules", ".bin", "tsup");

/** Every package under packages/ with its folder and its @spo/* dependencies. */
export function workspacePackages(): Map<string, WorkspacePackage> {
  const packages = new Map<string, WorkspacePackage>();
  for (const folder of readdirSync(join(root, "packages")).sort()) {
    const manifestPath = join(root, "packages", folder, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((d) => d.startsWith("@spo/"));
    packages.set(manifest.name, { name: manifest.name, dir: join(root, "packages", folder), deps });
  }
  return packages;
}

/** The named packages and everything they depend on (all packages when `names` is empty). */
export function withDependencies(packages: Map<string, WorkspacePackage>, names: readonly string[]): Set<string> {
  if (names.length === 0) return new Set(packages.keys());
  const wanted = new Set<string>();
  const visit = (name: string): void => {
    const pkg = packages.get(name);
    if (!pkg) throw new Error(`Cannot build ${name}: there is no such package under packages/`);
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dep of pkg.deps) visit(dep);
  };
  for (const name of names) visit(name);
  return wanted;
}

function runTsup(pkg: WorkspacePackage): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsup, [], { cwd: pkg.dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`Cannot build ${pkg.name}: tsup exited with ${code}\n${output}`));
    });
  });
}

/** Builds the packages named (and their dependencies), each after the packages it depends on. */
export async function buildPackages(
  names: readonly string[] = [],
  { parallel = 2, log = console.log }: { parallel?: number; log?: (line: string) => void } = {},
): Promise<string[]> {
  const packages = workspacePackages();
  const pending = new Set(withDependencies(packages, names));
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  while (pending.size > 0 || running.size > 0) {
    for (const name of [...pending]) {
      if (running.size >= parallel) break;
      const pkg = packages.get(name)!;
      if (!pkg.deps.every((d) => done.has(d))) continue;
      pending.delete(name);
      const started = Date.now();
      running.set(
        name,
        runTsup(pkg).then(() => {
          log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          done.add(name);
          running.delete(name);
        }),
      );
    }
    if (running.size === 0) throw new Error(`Cannot build: dependency cycle among ${[...pending].join(", ")}`);
    await Promise.race(running.values());
  }
  return [...done];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildPackages(process.argv.slice(2));
}
