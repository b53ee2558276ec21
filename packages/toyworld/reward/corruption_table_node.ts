/**
 * The reward of rendered ground truth and of each corruption of it (the table in the toyworld
 * README), with the time per reward call:
 * `node --conditions=@spo/source --import tsx packages/toyworld/reward/corruption_table_node.ts [--count 60] [--seed 2024]`
 * Scenes are training scenes drawn by `sampleScenes` (40 % single objects); scene i is rendered
 * with jitter seed i. "swapped" is over the pairs only.
 */
import { parseArgs } from "node:util";
import { renderScene } from "../world/render.ts";
import { sampleScenes } from "../world/split.ts";
import { blank, blobs, boxBlur, gaussianNoise, recoloured, removed, swapped, uniformNoise } from "./corruptions.ts";
import { reward } from "./reward.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "60" }, seed: { type: "string", default: "2024" } } });
const scenes = sampleScenes(Number(values.count), { split: "train", seed: Number(values.seed) });
const rows: [string, (scene: (typeof scenes)[number], seed: number) => Float32Array | undefined][] = [
  ["rendered ground truth", (scene, seed) => renderScene(scene, { seed })],
  ["blurred (3 × 3 box)", (scene, seed) => boxBlur(renderScene(scene, { seed }))],
  ["noise σ = 0.2", (scene, seed) => gaussianNoise(renderScene(scene, { seed }), 0.2, seed)],
  ["one object recoloured", recoloured],
  ["one object removed", (scene, seed) => removed(scene, seed)],
  ["the two objects swapped", (scene, seed) => (scene.kind === "pair" ? swapped(scene, seed) : undefined)],
  ["soft blobs of the right colours in the right places", blobs],
  ["blank canvas of the named background", blank],
  ["uniform noise", (_, seed) => uniformNoise(1000 + seed)],
];
reward(renderScene(scenes[0]!, { seed: 0 }), scenes[0]!); // builds the template cache outside the timing
let calls = 0;
let elapsed = 0;
console.log(`${scenes.length} training scenes (sampleScenes seed ${values.seed}), scene i jittered with seed i`);
console.log("| image | mean reward | min – max | n |\n| --- | --- | --- | --- |");
for (const [name, make] of rows) {
  const scores: number[] = [];
  scenes.forEach((scene, i) => {
    const image = make(scene, i);
    if (!image) return;
    const started = performance.now();
    scores.push(reward(image, scene));
    elapsed += performance.now() - started;
    calls++;
  });
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  console.log(
    `| ${name} | ${mean.toFixed(2)} | ${Math.min(...scores).toFixed(2)} – ${Math.max(...scores).toFixed(2)} | ${scores.length} |`,
  );
}
console.log(`${(elapsed / calls).toFixed(2)} ms per reward call (${calls} calls)`);
