// The oracle parity check: `npm run parity -- <folder>` runs every case manifest of the folder
// (schema: shared/fixtures/oracle/README.md) whose kind the project supports, through the public
// API, and prints PASS/FAIL/SKIP per case and a summary. Exit code 1 when any case fails.
import { runParity } from "./parity/run_parity.ts";

// `--dtype f16`: model kinds run with f16 weights and activations (scripts/parity/half_precision.ts)
const args = process.argv.slice(2);
const dtypeAt = args.indexOf("--dtype");
const dtype = dtypeAt >= 0 ? args.splice(dtypeAt, 2)[1] : "f32";
const folder = args[0];
if (!folder || args.length > 1 || (dtype !== "f32" && dtype !== "f16")) {
  console.error("Usage: npm run parity -- <folder with oracle case manifests> [--dtype f32|f16]");
  process.exit(2);
}
process.env.XDG_RUNTIME_DIR ??= "/tmp/spo-xdg-runtime";
try {
  const result = await runParity(
    folder,
    {
      line: (text) => console.log(text),
      note: (text) => console.error(text),
    },
    undefined,
    { dtype },
  );
  process.exitCode = result.exitCode;
} catch (error) {
  console.error(`Cannot run the parity check on ${folder}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
