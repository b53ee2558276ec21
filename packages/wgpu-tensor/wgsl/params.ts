type ScalarType = "u32" | "i32" | "f32";

/**
 * A kernel's uniform parameters: builds the WGSL `struct Params` declaration and the matching
 * bytes from one list, so the two cannot drift apart. Fields are 4-byte scalars laid out in order.
 *
 * @example
 * ```ts
 * const params = new Params().u32("size", 10).f32("alpha", 0.5);
 * params.struct(); // "struct Params {\n  size: u32,\n  alpha: f32,\n}"
 * ```
 */
export class Params {
  readonly #names: string[] = [];
  readonly #types: ScalarType[] = [];
  readonly #values: number[] = [];

  u32(name: string, value: number): this {
    return this.#add(name, "u32", value);
  }

  i32(name: string, value: number): this {
    return this.#add(name, "i32", value);
  }

  f32(name: string, value: number): this {
    return this.#add(name, "f32", value);
  }

  /** The WGSL declaration, with a padding field when there are none (WGSL has no empty structs). */
  struct(): string {
    const fields = this.#names.map((name, i) => `  ${name}: ${this.#types[i]},`);
    if (fields.length === 0) fields.push("  unused: u32,");
    return `struct Params {\n${fields.join("\n")}\n}\n@group(0) @binding(0) var<uniform> p: Params;\n`;
  }

  /** Field values as bytes, padded to 16. */
  pack(): ArrayBuffer {
    const words = Math.max(4, Math.ceil(this.#values.length / 4) * 4);
    const buffer = new ArrayBuffer(words * 4);
    const asU32 = new Uint32Array(buffer);
    const asI32 = new Int32Array(buffer);
    const asF32 = new Float32Array(buffer);
    this.#values.forEach((value, i) => {
      const type = this.#types[i];
      if (type === "f32") asF32[i] = value;
      else if (type === "i32") asI32[i] = value;
      else asU32[i] = value;
    });
    return buffer;
  }

  #add(name: string, type: ScalarType, value: number): this {
    if (type !== "f32" && !Number.isInteger(value)) {
      throw new TypeError(`Cannot set kernel parameter ${name}: ${value} is not an integer`);
    }
    this.#names.push(name);
    this.#types.push(type);
    this.#values.push(value);
    return this;
  }
}
