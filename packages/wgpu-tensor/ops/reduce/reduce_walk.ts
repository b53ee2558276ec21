/** Elements summed into a block before the block joins the running total. */
export const SUM_BLOCK = 256;

/** What to do with each element of the walked range. */
export type WalkBody =
  | {
      /** Statement lines per element, given its input offset and its flat reduction index. */
      each: (offset: string, flat: string) => string[];
    }
  | {
      /** `acc = combine(acc, value)` for an associative `combine` (max, min), unrolled by four. */
      fold: { acc: string; combine: (a: string, b: string) => string; value: (offset: string) => string };
    }
  | {
      /**
       * Blocked summation into the (already declared) variable `total` of WGSL type `type`: values
       * are summed into blocks of SUM_BLOCK elements, and blocks into the total, so rounding error
       * grows like K/SUM_BLOCK + SUM_BLOCK instead of K for a K-element range.
       */
      blocked: { total: string; type: string; add: (offset: string) => string };
    };

/**
 * WGSL statements walking the flat reduction indices [start, end) of a strided reduction with
 * `reducedRank` merged dimensions (uniforms `p.rn{i}` sizes and `p.rs{i}` strides, outermost
 * first), starting from input offset `base`. The innermost dimension is a tight loop over a
 * stride; outer dimensions advance like an odometer between runs, so no division happens per
 * element. Expects `start`, `end` and `base` in scope and declares nothing outside its block.
 */
export function walkRange(reducedRank: number, body: WalkBody): string[] {
  const inner = reducedRank - 1;
  const lines: string[] = ["  {"];
  // 1. unravel start into per-dimension digits
  lines.push("    var r = start;");
  lines.push(`    var jl = r % p.rn${inner};`);
  lines.push(`    r = r / p.rn${inner};`);
  for (let d = inner - 1; d >= 0; d--) {
    lines.push(`    var j${d} = r % p.rn${d};`);
    lines.push(`    r = r / p.rn${d};`);
  }
  const outerOffset = Array.from({ length: inner }, (_, d) => ` + j${d} * p.rs${d}`).join("");
  lines.push(`    var off = base${outerOffset};`);
  lines.push("    var pos = start;");
  if ("blocked" in body) {
    lines.push(`    var part = ${body.blocked.type}(0);`);
    lines.push("    var filled = 0u;");
  }
  // 2. one run along the innermost dimension per iteration
  lines.push("    loop {");
  lines.push("      if (pos >= end) { break; }");
  lines.push(`      let run = min(p.rn${inner} - jl, end - pos);`);
  lines.push(`      var q = off + jl * p.rs${inner};`);
  if ("each" in body) {
    lines.push("      for (var u = 0u; u < run; u++) {");
    body.each("q", "pos + u").forEach((line) => lines.push(`        ${line}`));
    lines.push(`        q += p.rs${inner};`);
    lines.push("      }");
  } else if ("fold" in body) {
    lines.push(...foldRun(body.fold, inner));
  } else {
    lines.push(...blockedRun(body.blocked, inner));
  }
  lines.push("      pos += run;");
  lines.push("      jl = 0u;");
  // 3. advance the outer digits
  lines.push(...carryLines(inner - 1, "      "));
  lines.push("    }");
  if ("blocked" in body) lines.push(`    ${body.blocked.total} += part;`);
  lines.push("  }");
  return lines;
}

function blockedRun(blocked: { total: string; type: string; add: (offset: string) => string }, inner: number): string[] {
  return [
    "      var t = 0u;",
    "      loop {",
    "        if (t >= run) { break; }",
    `        let piece = min(run - t, ${SUM_BLOCK}u - filled);`,
    "        var u = 0u;",
    "        for (; u + 4u <= piece; u += 4u) {",
    `          let a0 = ${blocked.add("q")};`,
    `          let a1 = ${blocked.add(`q + p.rs${inner}`)};`,
    `          let a2 = ${blocked.add(`q + 2u * p.rs${inner}`)};`,
    `          let a3 = ${blocked.add(`q + 3u * p.rs${inner}`)};`,
    "          part += (a0 + a1) + (a2 + a3);",
    `          q += 4u * p.rs${inner};`,
    "        }",
    "        for (; u < piece; u++) {",
    `          part += ${blocked.add("q")};`,
    `          q += p.rs${inner};`,
    "        }",
    "        t += piece;",
    "        filled += piece;",
    `        if (filled == ${SUM_BLOCK}u) {`,
    `          ${blocked.total} += part;`,
    `          part = ${blocked.type}(0);`,
    "          filled = 0u;",
    "        }",
    "      }",
  ];
}

function foldRun(
  fold: { acc: string; combine: (a: string, b: string) => string; value: (offset: string) => string },
  inner: number,
): string[] {
  const { acc, combine, value } = fold;
  return [
    "      var u = 0u;",
    "      for (; u + 4u <= run; u += 4u) {",
    `        let a0 = ${value("q")};`,
    `        let a1 = ${value(`q + p.rs${inner}`)};`,
    `        let a2 = ${value(`q + 2u * p.rs${inner}`)};`,
    `        let a3 = ${value(`q + 3u * p.rs${inner}`)};`,
    `        ${acc} = ${combine(acc, combine(combine("a0", "a1"), combine("a2", "a3")))};`,
    `        q += 4u * p.rs${inner};`,
    "      }",
    "      for (; u < run; u++) {",
    `        ${acc} = ${combine(acc, value("q"))};`,
    `        q += p.rs${inner};`,
    "      }",
  ];
}

function carryLines(d: number, indent: string): string[] {
  if (d < 0) return [];
  const lines = [`${indent}j${d} += 1u;`, `${indent}off += p.rs${d};`];
  if (d === 0) return lines;
  lines.push(`${indent}if (j${d} == p.rn${d}) {`);
  lines.push(`${indent}  j${d} = 0u;`);
  lines.push(`${indent}  off -= p.rn${d} * p.rs${d};`);
  lines.push(...carryLines(d - 1, `${indent}  `));
  lines.push(`${indent}}`);
  return lines;
}
