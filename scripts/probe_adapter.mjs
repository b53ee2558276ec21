// Exits 0 when dawn.node (npm `webgpu`) finds a WebGPU adapter, 1 otherwise. Used by bootstrap.sh
// before the TypeScript toolchain matters, so it is plain JavaScript.
import { create, globals } from "webgpu";

const quiet = process.argv.includes("--quiet");
Object.assign(globalThis, globals);
const gpu = create([]);
let adapter = null;
try {
  adapter = await gpu.requestAdapter();
} catch {
  adapter = null;
}
if (!adapter) {
  if (!quiet) console.error("No WebGPU adapter found");
  process.exit(1);
}
if (!quiet) {
  const info = adapter.info;
  console.log(`WebGPU adapter: ${info.vendor} ${info.architecture} ${info.description}`.trim());
}
process.exit(0);
