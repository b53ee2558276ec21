// The oracle parity check: `npm run parity -- <folder>` runs every case manifest of the folder
// (schema: shared/fixtures/oracle/README.md) whose kind the project supports, through the public
// API, and prints PASS/FAIL/SKIP per case and a summary. Exit code 1 when any case fails.
import { runParity } from "./parity/run_parity.ts";

const folder = process.argv[2];
if (!folder || process.argv.length > 3) {
  console.error("Usage: npm run parity -- <folder with oracle case manifests>");
  process.exit(2);
}
process.env.XDG_RUNTIME_DIR ??= "/tmp/spo-xdg-runtime";
try {
  const result = await runParity(folder, {
    line: (text) => console.log(text),
    note: (text) => console.error(text),
  });
  process.exitCode = result.exitCode;
} catch (error) {
  console.error(`Cannot run the parity check on ${folder}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
