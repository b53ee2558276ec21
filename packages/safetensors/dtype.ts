/**
 * The element types a safetensors file may declare, with their sizes.
 *
 * The order of {@link DTYPES} is the order of the reference Rust library's `Dtype` enum
 * (increasing alignment). {@link serializeSafetensors} sorts tensors by it, descending, so
 * files we write are laid out byte for byte as the reference writer lays them out.
 *
 * @module
 */

/**
 * Every supported dtype string, in the reference library's order (increasing alignment).
 *
 * @example
 * ```ts
 * import { DTYPES } from "@spo/safetensors";
 * console.log(DTYPES.includes("BF16")); // true
 * ```
 */
export const DTYPES = [
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "F64",
  "I64",
  "U64",
] as const;

/** A safetensors element type such as `"F32"` or `"BF16"`. */
export type DType = (typeof DTYPES)[number];

const BYTE_SIZES: { readonly [D in DType]: number } = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

const RANKS: ReadonlyMap<string, number> = new Map(DTYPES.map((dtype, index) => [dtype, index]));

/**
 * Whether a value is one of the supported dtype strings.
 *
 * @example
 * ```ts
 * import { isDType } from "@spo/safetensors";
 * console.log(isDType("F16"), isDType("float16")); // true false
 * ```
 */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && RANKS.has(value);
}

/**
 * The size in bytes of one element of a dtype.
 *
 * @example
 * ```ts
 * import { dtypeByteSize } from "@spo/safetensors";
 * console.log(dtypeByteSize("BF16")); // 2
 * ```
 */
export function dtypeByteSize(dtype: DType): number {
  return BYTE_SIZES[dtype];
}

/**
 * The position of a dtype in the reference library's alignment order (BOOL is 0, U64 the last).
 *
 * @example
 * ```ts
 * import { dtypeRank } from "@spo/safetensors";
 * console.log(dtypeRank("F32") > dtypeRank("F16")); // true
 * ```
 */
export function dtypeRank(dtype: DType): number {
  return RANKS.get(dtype)!;
}
