/**
 * An SVG chart of the experiment: left, reward on the monitor prompts (training split) against
 * training compute, one line per (method, seed), one colour per method; right, held-out reward
 * against total training compute per method, with its 95 % interval over seeds. No dependencies.
 *
 * @module
 */

import type { RunRecord, VariantSummary } from "./results_table.ts";

const COLOURS = ["#444444", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

function tickLabel(value: number): string {
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (Math.abs(value) >= 1e3) return `${(value / 1e3).toFixed(0)}k`;
  return Math.abs(value) < 1 ? value.toFixed(2) : value.toFixed(0);
}

interface Panel {
  x0: number;
  y0: number;
  width: number;
  height: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

function axes(p: Panel, title: string, xLabel: string, yLabel: string): string[] {
  const px = (x: number) => p.x0 + (x / p.xMax) * p.width;
  const py = (y: number) => p.y0 + p.height - ((y - p.yMin) / (p.yMax - p.yMin)) * p.height;
  const parts = [
    `<rect x="${p.x0}" y="${p.y0}" width="${p.width}" height="${p.height}" fill="none" stroke="#999"/>`,
    `<text x="${p.x0}" y="${p.y0 - 8}" font-size="12">${escapeXml(title)}</text>`,
    `<text x="${p.x0 + p.width / 2}" y="${p.y0 + p.height + 32}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="${p.x0 - 44}" y="${p.y0 + p.height / 2}" text-anchor="middle" transform="rotate(-90 ${p.x0 - 44} ${p.y0 + p.height / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const x = (p.xMax * i) / 4;
    const y = p.yMin + ((p.yMax - p.yMin) * i) / 4;
    parts.push(`<text x="${px(x)}" y="${p.y0 + p.height + 14}" text-anchor="middle">${tickLabel(x)}</text>`);
    parts.push(`<text x="${p.x0 - 4}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(3)}</text>`);
    parts.push(`<line x1="${p.x0}" x2="${p.x0 + p.width}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`);
  }
  return parts;
}

function range(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const pad = Math.max((hi - lo) * 0.08, 1e-3);
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

/**
 * The chart as an SVG document.
 *
 * @example
 * ```ts
 * await writeFile("reward_vs_compute.svg", rewardComputeChartSvg(records, summaries, { baseMonitorReward }));
 * ```
 */
export function rewardComputeChartSvg(
  records: readonly RunRecord[],
  summaries: readonly VariantSummary[],
  options: { title?: string; baseMonitorReward?: number } = {},
): string {
  const width = 1100;
  const height = 470;
  const methods = summaries.map((s) => s.id);
  const colour = (id: string) => COLOURS[Math.max(0, methods.indexOf(id)) % COLOURS.length]!;
  const trained = records.filter((r) => r.variant !== "base");
  const xMax = Math.max(1, ...trained.flatMap((r) => [r.compute.forwardEquivalents, ...r.curve.map((c) => c.forwardEquivalents)])) * 1.05;
  const curveValues = trained.flatMap((r) => r.curve.map((c) => c.reward));
  if (options.baseMonitorReward !== undefined) curveValues.push(options.baseMonitorReward);
  const [cLo, cHi] = range(curveValues);
  const [hLo, hHi] = range(summaries.flatMap((s) => [s.reward.mean, s.reward.low, s.reward.high]));
  const left: Panel = { x0: 70, y0: 50, width: 420, height: 330, xMax, yMin: cLo, yMax: cHi };
  const right: Panel = { x0: 580, y0: 50, width: 300, height: 330, xMax, yMin: hLo, yMax: hHi };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="70" y="20" font-size="14">${escapeXml(options.title ?? "reward against training compute")}</text>`,
    ...axes(left, "during training: exact reward on monitor prompts (training split)", "UNet forward-equivalents", "mean exact reward"),
    ...axes(right, "after training: held-out reward (mean over seeds, 95 % t CI)", "UNet forward-equivalents", "mean exact reward"),
  ];
  const lx = (x: number) => left.x0 + (x / left.xMax) * left.width;
  const ly = (y: number) => left.y0 + left.height - ((y - left.yMin) / (left.yMax - left.yMin)) * left.height;
  for (const r of trained) {
    const start = options.baseMonitorReward !== undefined ? [{ forwardEquivalents: 0, reward: options.baseMonitorReward }] : [];
    const points = [...start, ...r.curve].map((c) => `${lx(c.forwardEquivalents).toFixed(1)},${ly(c.reward).toFixed(1)}`);
    parts.push(`<polyline points="${points.join(" ")}" fill="none" stroke="${colour(r.variant)}" stroke-width="1.5" opacity="0.8"/>`);
    for (const c of r.curve)
      parts.push(`<circle cx="${lx(c.forwardEquivalents).toFixed(1)}" cy="${ly(c.reward).toFixed(1)}" r="2" fill="${colour(r.variant)}"/>`);
  }
  const rx = (x: number) => right.x0 + (x / right.xMax) * right.width;
  const ry = (y: number) => right.y0 + right.height - ((y - right.yMin) / (right.yMax - right.yMin)) * right.height;
  for (const s of summaries) {
    const x = rx(s.id === "base" ? 0 : s.forwardEquivalents);
    const c = colour(s.id);
    if (Number.isFinite(s.reward.low))
      parts.push(`<line x1="${x}" x2="${x}" y1="${ry(s.reward.low)}" y2="${ry(s.reward.high)}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<circle cx="${x}" cy="${ry(s.reward.mean)}" r="4" fill="${c}"/>`);
  }
  summaries.forEach((s, i) => {
    const y = 60 + i * 18;
    parts.push(`<rect x="${right.x0 + right.width + 20}" y="${y - 9}" width="12" height="12" fill="${colour(s.id)}"/>`);
    parts.push(`<text x="${right.x0 + right.width + 38}" y="${y + 1}">${escapeXml(s.label)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
