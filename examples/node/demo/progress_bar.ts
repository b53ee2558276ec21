// The fine-tune's progress bar with ETA (the `spo train` one): redrawn in place on a terminal, one
// line per finished iteration otherwise (logs, CI).
import { progressWithEta } from "@spo/trainer/node";
import type { TrainingProgressEvent } from "@spo/trainer";

export function trainingProgressBar(write: (text: string) => void, isTty: boolean): (event: TrainingProgressEvent) => void {
  const started = performance.now();
  let lastLine = -1;
  return (event) => {
    const seconds = (performance.now() - started) / 1000;
    const phase = event.phase === "sample" ? `sampling step ${event.step! + 1}/${event.steps}` : event.phase;
    const line = progressWithEta(`SPO ${phase}`.padEnd(24), event.iteration, event.totalIterations, seconds);
    if (isTty) write(`\r${line}`);
    else if (event.phase === "train" && event.iteration !== lastLine) {
      write(`${line}\n`);
      lastLine = event.iteration;
    }
  };
}
