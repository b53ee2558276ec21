/**
 * LoRAs picked as local `.safetensors` files, found by name as A1111 finds them: the tag
 * `<lora:my_style:0.8>` names the file `my_style.safetensors`.
 *
 * @module
 */
import type { LoraResolver } from "@spo/pipeline";
import { openSafetensorsBlob } from "@spo/safetensors";

/** A LoRA's tag name: its file name without the `.safetensors` extension. */
export function loraName(file: Pick<File, "name">): string {
  return file.name.replace(/\.safetensors$/i, "");
}

/**
 * A resolver over picked files: each tag's LoRA is read lazily from its file (only the tensors it
 * needs), `null` for a name with no file.
 *
 * @example
 * ```ts
 * const loras = loraResolver([...input.files!]);
 * await pipe.generate({ prompt: "<lora:style:0.7> a fox", loras });
 * ```
 */
export function loraResolver(files: readonly File[]): LoraResolver {
  const byName = new Map(files.map((file) => [loraName(file), file]));
  return async (name) => {
    const file = byName.get(name);
    return file ? { reader: await openSafetensorsBlob(file) } : null;
  };
}
