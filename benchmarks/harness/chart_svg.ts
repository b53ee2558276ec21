import type { ResultRecord } from "./results.ts";

const ROW = 26;
const LABEL_WIDTH = 360;
const PLOT_WIDTH = 520;
const RIGHT_MARGIN = 140;
const TOP = 84;
const BOTTOM = 44;

/**
 * A hand-written SVG chart: one horizontal bar per case, the ratio peer/ours on a log scale, bars
 * growing from the 1× line (right and green: we are faster; left and red: the peer is). Cases with
 * no ratio are listed with the reason in grey.
 *
 * @example
 * ```ts
 * writeFileSync("latest.svg", ratioChartSvg(records, "llvmpipe, 2 cores, load 3.1"));
 * ```
 */
export function ratioChartSvg(records: readonly ResultRecord[], subtitle: string): string {
  const ratios = records.map((r) => r.ratio).filter((r): r is number => r !== null && r > 0);
  // room beyond the longest bars for their labels
  const low = Math.min(0.1, ...ratios.map((r) => r / 3));
  const high = Math.max(10, ...ratios.map((r) => r * 2));
  const [logLow, logHigh] = [Math.log10(low), Math.log10(high)];
  const x = (ratio: number) => LABEL_WIDTH + ((Math.log10(ratio) - logLow) / (logHigh - logLow)) * PLOT_WIDTH;
  const width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN;
  const height = TOP + records.length * ROW + BOTTOM;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">Peer time / our time, log scale (peer: tfjs-backend-webgpu unless the case names another)</text>`,
    `<text x="12" y="42" fill="#555">${escapeXml(subtitle)}</text>`,
    `<text x="12" y="60" fill="#555">Bars right of 1× (green): we are faster; left (red): the peer is. Numbers: the ratio of medians.</text>`,
  ];
  for (const tick of ticks(low, high)) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${height - BOTTOM + 4}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${tx}" y="${height - BOTTOM + 18}" text-anchor="middle" fill="#555">${tick}×</text>`);
  }
  records.forEach((record, i) => {
    const y = TOP + i * ROW;
    const middle = y + ROW / 2 + 4;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${middle}" text-anchor="end">${escapeXml(record.name)}</text>`);
    if (record.ratio === null || record.ratio <= 0) {
      const why = record.status === "ok" ? `n/a, the peer cannot run it: ${record.note.replace(/^.*peer: /, "")}` : record.status;
      const room = Math.floor((width - x(1) - 12) / 6.5); // characters that fit at ~6.5 px each
      parts.push(`<text x="${x(1) + 6}" y="${middle}" fill="#888">${escapeXml(truncate(why, room))}</text>`);
      return;
    }
    const [from, to] = [x(1), x(record.ratio)];
    const color = record.ratio >= 1 ? "#2e8b57" : "#c0392b";
    parts.push(
      `<rect x="${Math.min(from, to).toFixed(1)}" y="${y + 5}" width="${Math.max(Math.abs(to - from), 1).toFixed(1)}" height="${ROW - 10}" fill="${color}"/>`,
    );
    const labelX = record.ratio >= 1 ? to + 5 : to - 5;
    const anchor = record.ratio >= 1 ? "start" : "end";
    parts.push(`<text x="${labelX.toFixed(1)}" y="${middle}" text-anchor="${anchor}">${record.ratio.toFixed(2)}×</text>`);
  });
  parts.push(`<line x1="${x(1)}" y1="${TOP - 10}" x2="${x(1)}" y2="${height - BOTTOM + 4}" stroke="black" stroke-width="1.5"/>`);
  parts.push(`<text x="${x(1)}" y="${TOP - 14}" text-anchor="middle">1× (same speed)</text>`);
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** 1-2-5 ticks of each decade within [low, high]. */
function ticks(low: number, high: number): number[] {
  const out: number[] = [];
  for (let decade = Math.floor(Math.log10(low)); decade <= Math.ceil(Math.log10(high)); decade++) {
    for (const step of [1, 2, 5]) {
      const value = step * 10 ** decade;
      if (value >= low && value <= high) out.push(Number(value.toPrecision(1)));
    }
  }
  return out;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
