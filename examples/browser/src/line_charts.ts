/**
 * Small SVG line charts of a run's curves against the update number, one panel per series, drawn
 * as the page's metrics arrive.
 *
 * @module
 */

/** One series: its label, colour and a value per update (null where it has none). */
export interface ChartSeries {
  label: string;
  color: string;
  points: { x: number; y: number | null }[];
}

const WIDTH = 300;
const HEIGHT = 110;
const PAD = { left: 44, right: 8, top: 18, bottom: 18 };

function label(value: number): string {
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0) ? value.toExponential(1) : value.toFixed(3);
}

/**
 * The series as an SVG element's markup, with the latest value in the title line.
 *
 * @example
 * ```ts
 * element.innerHTML = lineChartSvg({ label: "loss", color: "#2f6fdf", points: metrics.map((m) => ({ x: m.update, y: m.loss })) });
 * ```
 */
export function lineChartSvg(series: ChartSeries): string {
  const points = series.points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
  const latest = points.at(-1);
  const title = `${series.label}${latest ? `: ${label(latest.y)}` : ": no data yet"}`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${title}">`,
    `<text x="${PAD.left}" y="12" font-size="11" fill="currentColor">${title}</text>`,
  ];
  const [x0, y0, w, h] = [PAD.left, PAD.top, WIDTH - PAD.left - PAD.right, HEIGHT - PAD.top - PAD.bottom];
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="currentColor" stroke-opacity="0.25"/>`);
  if (points.length > 0) {
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    const [xMin, xMax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    let [lo, hi] = [Math.min(...ys), Math.max(...ys)];
    if (hi === lo) [lo, hi] = [lo - 1e-6 - Math.abs(lo) * 0.05, hi + 1e-6 + Math.abs(hi) * 0.05];
    const px = (x: number) => x0 + ((x - xMin) / (xMax - xMin)) * w;
    const py = (y: number) => y0 + h - ((y - lo) / (hi - lo)) * h;
    parts.push(`<text x="${x0 - 3}" y="${y0 + 8}" font-size="9" text-anchor="end" fill="currentColor">${label(hi)}</text>`);
    parts.push(`<text x="${x0 - 3}" y="${y0 + h}" font-size="9" text-anchor="end" fill="currentColor">${label(lo)}</text>`);
    parts.push(`<text x="${x0 + w}" y="${HEIGHT - 4}" font-size="9" text-anchor="end" fill="currentColor">update ${xMax}</text>`);
    const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.6"/>`);
    for (const p of points) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2" fill="${series.color}"/>`);
  }
  parts.push("</svg>");
  return parts.join("");
}
