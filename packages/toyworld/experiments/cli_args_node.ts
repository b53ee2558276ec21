// Argument parsing for the experiment scripts: a wrong flag or value ends with the usage line and
// exit status 2, not parseArgs' stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Prints `usage: …` to stderr and exits with status 2. */
export function exitWithUsage(usage: string): never {
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}

/** `parseArgs(config)`, or {@link exitWithUsage} when it refuses the command line. */
export function parseArgsOrExit<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch {
    exitWithUsage(usage);
  }
}
