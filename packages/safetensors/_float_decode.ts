// Decoders for the small float formats JavaScript has no typed array for. Each format is a sign,
// an exponent with a bias and a mantissa; the 16-bit and 8-bit tables are built once, on first use.

/** Value of a float with the given fields; `exponent` 0 means subnormal. */
function floatFromFields(sign: number, exponent: number, mantissa: number, mantissaBits: number, bias: number): number {
  const fraction = mantissa / 2 ** mantissaBits;
  const magnitude = exponent === 0 ? fraction * 2 ** (1 - bias) : (1 + fraction) * 2 ** (exponent - bias);
  return sign === 1 ? -magnitude : magnitude;
}

/** IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; exponent 31 is Inf/NaN. */
export function decodeFloat16(bits: number): number {
  const sign = bits >> 15;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) {
    if (mantissa !== 0) return Number.NaN;
    return sign === 1 ? -Infinity : Infinity;
  }
  return floatFromFields(sign, exponent, mantissa, 10, 15);
}

/** OCP FP8 E4M3 (the "FN" variant): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities, S.1111.111 is NaN. */
export function decodeFloat8E4M3(bits: number): number {
  const sign = bits >> 7;
  const exponent = (bits >> 3) & 0xf;
  const mantissa = bits & 0x7;
  if (exponent === 0xf && mantissa === 0x7) return Number.NaN;
  return floatFromFields(sign, exponent, mantissa, 3, 7);
}

/** OCP FP8 E5M2: the top byte of a binary16. */
export function decodeFloat8E5M2(bits: number): number {
  return decodeFloat16(bits << 8);
}

/** OCP E8M0 scale: 2^(bits - 127), with 0xff as NaN. */
export function decodeFloat8E8M0(bits: number): number {
  if (bits === 0xff) return Number.NaN;
  return 2 ** (bits - 127);
}

function tableOf(size: number, decode: (bits: number) => number): Float32Array {
  const table = new Float32Array(size);
  for (let bits = 0; bits < size; bits += 1) table[bits] = decode(bits);
  return table;
}

const tables = new Map<string, Float32Array>();

/** A lookup table from every bit pattern of a format to its float32 value. */
export function decodeTable(format: "F16" | "F8_E4M3" | "F8_E5M2" | "F8_E8M0"): Float32Array {
  let table = tables.get(format);
  if (table !== undefined) return table;
  if (format === "F16") table = tableOf(0x10000, decodeFloat16);
  else if (format === "F8_E4M3") table = tableOf(0x100, decodeFloat8E4M3);
  else if (format === "F8_E5M2") table = tableOf(0x100, decodeFloat8E5M2);
  else table = tableOf(0x100, decodeFloat8E8M0);
  tables.set(format, table);
  return table;
}
