// fast-check generators shared by the property tests: random tensors of every dtype, names and
// metadata, and valid safetensors files built from them.

import fc from "fast-check";
import { dtypeByteSize, DTYPES, type DType } from "../dtype.ts";
import { serializeSafetensors, type TensorInput } from "../serialize.ts";
import { typedArrayClassOf } from "../typed_array.ts";

/** Any supported dtype. */
export const dtypeArb: fc.Arbitrary<DType> = fc.constantFrom(...DTYPES);

/** Shapes of up to 4 dimensions of size 0 to 4, scalars included. */
export const shapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/**
 * One character: printable ASCII, JSON's special characters, or any code point outside the
 * surrogates (astral ones included). Built by hand: `fc.string({ unit: "binary" })` takes over a
 * second to construct.
 */
const charArb: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('"', "\\", "\n", "\u0000", "\u001f", "\u007f", "\u2028", "é", "\uff5e", "\u{1f600}"),
  fc
    .integer({ min: 0x80, max: 0x10ffff })
    .filter((code) => code < 0xd800 || code > 0xdfff)
    .map((code) => String.fromCodePoint(code)),
);

/** Well-formed Unicode text of up to `maxLength` characters. */
export function textArb(maxLength: number): fc.Arbitrary<string> {
  return fc.array(charArb, { maxLength }).map((chars) => chars.join(""));
}

/** Names: any well-formed Unicode except the reserved `__metadata__`, `__proto__` included. */
export const nameArb: fc.Arbitrary<string> = fc
  .oneof(textArb(12), fc.constantFrom("__proto__", "constructor", "a.b.0.weight", ""))
  .filter((name) => name !== "__metadata__");

/** Optional metadata: undefined, or a map of well-formed strings. */
export const metadataArb: fc.Arbitrary<Record<string, string> | undefined> = fc.option(
  fc.dictionary(textArb(8), textArb(16), { maxKeys: 4 }),
  { nil: undefined },
);

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** A tensor whose data is raw bytes or, half the time, the natural typed array of its dtype. */
export const tensorArb: fc.Arbitrary<TensorInput> = fc
  .tuple(dtypeArb, shapeArb)
  .chain(([dtype, shape]) => {
    const byteLength = elementCount(shape) * dtypeByteSize(dtype);
    return fc.tuple(fc.constant(dtype), fc.constant(shape), fc.uint8Array({ minLength: byteLength, maxLength: byteLength }), fc.boolean());
  })
  .map(([dtype, shape, bytes, isTyped]) => {
    if (!isTyped) return { dtype, shape, data: bytes };
    const Class = typedArrayClassOf(dtype);
    const data = new Class(bytes.length / dtypeByteSize(dtype));
    new Uint8Array(data.buffer).set(bytes);
    return { dtype, shape, data };
  });

/** Up to 6 named tensors. */
export const tensorsArb: fc.Arbitrary<Record<string, TensorInput>> = fc.dictionary(nameArb, tensorArb, { maxKeys: 6 });

/** The bytes of a valid safetensors file. */
export const fileArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(tensorsArb, metadataArb)
  .map(([tensors, metadata]) => serializeSafetensors(tensors, metadata));

/** The raw little-endian bytes of a tensor input. */
export function rawBytes(tensor: TensorInput): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}
