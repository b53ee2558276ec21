// The Node side of the consumer project: plain `node` runs what tsc emits from this file.
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import * as trainer from "@spo/trainer";
import { runChecks } from "./checks.ts";

// `pnpm add @spo/trainer` is where a user starts: its entry (and all it builds on) loads in Node
if (Object.keys(trainer).length === 0) throw new Error("@spo/trainer exports nothing");
const tokenizer = await loadDefaultClipTokenizer();
console.log(JSON.stringify(await runChecks(tokenizer)));
