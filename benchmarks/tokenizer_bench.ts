// Throughput of the CLIP tokenizer on typical SD prompts (~15 words with commas, emphasis syntax,
// a few capitals and digits): time to load the shipped vocabulary, then prompts/s for encode()
// to 77 ids, cold (first pass, empty caches) and warm (same prompts again). Two prompt sets:
// "template" prompts from a few dozen phrases, and "varied" prompts of 15 words drawn from 2,000
// distinct English words (so most words are BPE-merged for the first time in the cold pass).
//
//   node --conditions=@spo/source --import tsx benchmarks/tokenizer_bench.ts [prompt count, default 4000]

import { loadDefaultClipTokenizer } from "@spo/clip/node";

const SUBJECTS = [
  "a cat",
  "an astronaut",
  "a knight",
  "1girl",
  "a red fox",
  "an old lighthouse",
  "a cyberpunk city",
  "a bowl of ramen",
  "a dragon",
  "two robots",
];
const PLACES = ["in a forest", "on mars", "at sunset", "under the sea", "in Tokyo", "on a cliff", "in the rain", "in a library"];
const STYLES = [
  "masterpiece",
  "best quality",
  "highly detailed",
  "8k",
  "oil painting",
  "(volumetric lighting:1.2)",
  "[blurry]",
  "trending on artstation",
  "sharp focus",
  "Studio Ghibli style",
  "cinematic",
  "35mm photo",
];

/** A deterministic pseudo-random generator (mulberry32), so runs compare. */
function makeRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function templatePrompts(count: number): string[] {
  const random = makeRandom(12345);
  return Array.from({ length: count }, () => {
    const styles = Array.from({ length: 3 + Math.floor(random() * 4) }, () => pick(random, STYLES));
    return `${pick(random, SUBJECTS)} ${pick(random, PLACES)}, ${styles.join(", ")}`;
  });
}

/** 15 words each from the 2,000 highest-ranked whole words of the vocabulary, in commas. */
function variedPrompts(count: number, vocab: ReadonlyMap<string, number>): string[] {
  const words = [...vocab.keys()]
    .filter((token) => /^[a-z]{3,}<\/w>$/.test(token))
    .slice(0, 2000)
    .map((token) => token.slice(0, -4));
  const random = makeRandom(777);
  return Array.from({ length: count }, () => {
    const chosen = Array.from({ length: 15 }, (_, index) => {
      const word = pick(random, words);
      return index % 4 === 3 ? `${word},` : word;
    });
    return chosen.join(" ");
  });
}

const count = Number(process.argv[2] ?? 4000);

const start = performance.now();
const tokenizer = await loadDefaultClipTokenizer();
const loadMs = performance.now() - start;
console.log(`load (vocab.json + merges.txt from disk): ${loadMs.toFixed(0)} ms`);

function run(prompts: readonly string[]): number {
  const begin = performance.now();
  let checksum = 0;
  for (const prompt of prompts) checksum += tokenizer.encode(prompt)[1]!;
  if (checksum === 0) throw new Error("no tokens");
  return performance.now() - begin;
}

for (const [name, prompts] of [
  ["template", templatePrompts(count)],
  ["varied", variedPrompts(count, tokenizer.getVocab())],
] as const) {
  const words = prompts.reduce((total, prompt) => total + prompt.split(/\s+/).length, 0);
  const coldMs = run(prompts);
  const warmMs = Math.min(run(prompts), run(prompts), run(prompts));
  console.log(`${name}: ${count} prompts, ${(words / count).toFixed(1)} words each`);
  console.log(`  encode cold: ${coldMs.toFixed(0)} ms, ${Math.round((count / coldMs) * 1000)} prompts/s`);
  console.log(`  encode warm: ${warmMs.toFixed(0)} ms, ${Math.round((count / warmMs) * 1000)} prompts/s`);
}
