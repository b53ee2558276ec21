// Python's json module writes what JSON.parse refuses; diffusers' configs hold such values.

/**
 * Parses the text of a diffusers JSON config. Python's `json` writes `Infinity`, `-Infinity` and
 * `NaN` (e.g. `"lambda_min_clipped": -Infinity` in every DPM-Solver config), which `JSON.parse`
 * rejects; this accepts them as the numbers they name.
 *
 * @example
 * ```ts
 * parseDiffusersJson('{"lambda_min_clipped": -Infinity}'); // { lambda_min_clipped: -Infinity }
 * ```
 */
export function parseDiffusersJson(text: string): unknown {
  const marker = "__spo_nonfinite__";
  // Replace the bare tokens outside strings: walk string literals and rewrite only between them.
  let rewritten = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      rewritten += text.slice(i, end);
      i = end;
      continue;
    }
    const token = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (token) {
      rewritten += JSON.stringify(`${marker}${token[1]}`);
      i += token[1].length;
      continue;
    }
    rewritten += char;
    i++;
  }
  return JSON.parse(rewritten, (_key, value) => {
    if (typeof value === "string" && value.startsWith(marker)) return Number(value.slice(marker.length));
    return value;
  });
}

function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}
