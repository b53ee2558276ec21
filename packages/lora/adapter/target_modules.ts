import { Conv2d, Linear, type Module } from "@spo/wgpu-tensor";
import type { AdaptableLayer } from "../layer/lora_layer.ts";

/**
 * Which modules to adapt, with PEFT's `target_modules` semantics: a list of names matches a
 * module whose full dotted name equals a name or ends with `.` + name (`"to_q"` matches
 * `…attn1.to_q`, `"to_out.0"` matches `…attn2.to_out.0`, `"q"` matches neither); a RegExp must
 * match the whole name (PEFT's `re.fullmatch` for a string).
 */
export type TargetModules = readonly string[] | RegExp;

/**
 * Whether a module name is targeted.
 *
 * @example
 * ```ts
 * matchesTarget("mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0", ["to_out.0"]); // true
 * matchesTarget("mid_block.attentions.0.transformer_blocks.0.attn1.to_q", ["q"]); // false
 * matchesTarget("down_blocks.0.attentions.0.proj_in", /.*proj_(in|out)/); // true
 * ```
 */
export function matchesTarget(name: string, targets: TargetModules): boolean {
  if (targets instanceof RegExp) {
    const match = new RegExp(`^(?:${targets.source})$`, targets.flags.replace("g", "")).exec(name);
    return match !== null;
  }
  return targets.some((target) => name === target || name.endsWith(`.${target}`));
}

/**
 * The Linear and Conv2d layers of a model that the targets select, by module path. Throws when
 * nothing matches (a LoRA that would silently change nothing) and when a matched module is not
 * a Linear or Conv2d.
 *
 * @example
 * ```ts
 * findTargetLayers(unet, ["to_q", "to_k", "to_v", "to_out.0"]).size; // 128 for SD1.5
 * ```
 */
export function findTargetLayers(model: Module, targets: TargetModules): Map<string, AdaptableLayer> {
  const found = new Map<string, AdaptableLayer>();
  for (const [name, module] of model.namedModules()) {
    if (name === "" || !matchesTarget(name, targets)) continue;
    if (!(module instanceof Linear || module instanceof Conv2d)) {
      throw new TypeError(
        `Cannot add a LoRA to "${name}": it is a ${module.constructor.name}, only Linear and Conv2d layers can be adapted`,
      );
    }
    found.set(name, module);
  }
  if (found.size === 0) {
    const described = targets instanceof RegExp ? String(targets) : JSON.stringify(targets);
    throw new RangeError(`Cannot add a LoRA: target modules ${described} match no module of the model`);
  }
  return found;
}
