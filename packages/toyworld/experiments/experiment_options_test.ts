import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXPERIMENT_DEFAULTS, ExperimentUsageError, parseExperimentOptions, QUICK_SETTINGS } from "./experiment_options.ts";

describe("npm run experiments options", () => {
  it("gives the committed run's settings with no arguments, and --quick's smoke settings over them", () => {
    const full = parseExperimentOptions([])!;
    assert.deepEqual({ ...full, isQuick: undefined }, { ...EXPERIMENT_DEFAULTS, isQuick: undefined });
    const quick = parseExperimentOptions(["--quick", "--lr", "3e-2"])!;
    assert.equal(quick.isQuick, true);
    assert.equal(quick.seeds, QUICK_SETTINGS.seeds);
    assert.equal(quick.iterations, QUICK_SETTINGS.iterations);
    assert.equal(quick.learningRate, 3e-2, "a flag wins over --quick");
  });

  it("returns null for --help", () => {
    assert.equal(parseExperimentOptions(["--help"]), null);
  });

  it("names the bad flag for values out of range, unknown variants and unknown flags", () => {
    const cases: [string[], RegExp][] = [
      [["--lr", "0"], /--lr must be a number in \(0, Infinity\]/],
      [["--lr", "fast"], /--lr/],
      [["--seeds", "1.5"], /--seeds must be a positive integer/],
      [["--steps", "2"], /--steps must be at least 3/],
      [["--scorer", "clip"], /--scorer must be spm or exact/],
      [["--variants", "spo,ppo"], /Unknown experiment variant "ppo"/],
      [["--dpo-pair-share", "1"], /--dpo-pair-share must be a number in \(0, 0.95\]/],
      [["--epochs", "3"], /epochs/],
    ];
    for (const [argv, message] of cases)
      assert.throws(
        () => parseExperimentOptions(argv),
        (e: unknown) => e instanceof ExperimentUsageError && message.test((e as Error).message),
        argv.join(" "),
      );
  });
});
