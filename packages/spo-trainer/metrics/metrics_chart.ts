/**
 * An SVG chart of a run's curves (loss, clamped fraction, mean score, reward, LoRA norm) against
 * the update number: one small panel per series, each with its own y range, no dependencies.
 *
 * @module
 */

import type { UpdateMetrics } from "./update_metrics.ts";

const SERIES: { key: keyof UpdateMetrics; label: string; color: string }[] = [
  { key: "loss", label: "loss", color: "#1f77b4" },
  { key: "clampedFraction", label: "clamped fraction", color: "#ff7f0e" },
  { key: "meanScore", label: "mean score", color: "#2ca02c" },
  { key: "reward", label: "reward", color: "#d62728" },
  { key: "loraNorm", label: "LoRA norm", color: "#9467bd" },
];

function format(value: number): string {
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0) ? value.toExponential(2) : value.toFixed(3);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/**
 * The chart as an SVG document. Series with no finite value are left out.
 *
 * @example
 * ```ts
 * await writeFile("metrics.svg", metricsChartSvg(metrics, { title: "SPO run" }));
 * ```
 */
export function metricsChartSvg(metrics: readonly UpdateMetrics[], options: { title?: string } = {}): string {
  const width = 640;
  const panelHeight = 110;
  const left = 70;
  const right = 20;
  const top = 30;
  const present = SERIES.filter((s) => metrics.some((m) => typeof m[s.key] === "number" && Number.isFinite(m[s.key] as number)));
  const height = top + Math.max(present.length, 1) * (panelHeight + 20) + 20;
  const title = `${escapeXml(options.title ?? "training metrics")} (${metrics.length} updates)`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${title}</title>`, // the chart's text alternative, for screen readers
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13">${title}</text>`,
  ];
  const xs = metrics.map((m) => m.update);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, xMin + 1);
  present.forEach((series, i) => {
    const y0 = top + i * (panelHeight + 20);
    const points = metrics.filter((m) => typeof m[series.key] === "number" && Number.isFinite(m[series.key] as number));
    const values = points.map((m) => m[series.key] as number);
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi === lo) {
      hi += 1e-6 + Math.abs(hi) * 0.01;
      lo -= 1e-6 + Math.abs(lo) * 0.01;
    }
    const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (width - left - right);
    const py = (y: number) => y0 + panelHeight - ((y - lo) / (hi - lo)) * panelHeight;
    parts.push(`<rect x="${left}" y="${y0}" width="${width - left - right}" height="${panelHeight}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="${left + 4}" y="${y0 + 12}" fill="${series.color}">${series.label}</text>`);
    parts.push(`<text x="${left - 4}" y="${y0 + 10}" text-anchor="end">${format(hi)}</text>`);
    parts.push(`<text x="${left - 4}" y="${y0 + panelHeight}" text-anchor="end">${format(lo)}</text>`);
    const path = points
      .map((m, j) => `${j === 0 ? "M" : "L"}${px(m.update).toFixed(1)},${py(m[series.key] as number).toFixed(1)}`)
      .join(" ");
    if (points.length === 1)
      parts.push(`<circle cx="${px(points[0].update).toFixed(1)}" cy="${py(values[0]).toFixed(1)}" r="2" fill="${series.color}"/>`);
    else parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.5"/>`);
  });
  parts.push(`<text x="${width - right}" y="${height - 6}" text-anchor="end">update ${xMin}…${xMax}</text>`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
