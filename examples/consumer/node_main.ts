// The Node side of the consumer project: plain `node` runs what tsc emits from this file.
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import { runChecks } from "./checks.ts";

const tokenizer = await loadDefaultClipTokenizer();
console.log(JSON.stringify(await runChecks(tokenizer)));
