import { type DType, toFloat32Array } from "@spo/safetensors";
import type { LoraEntry, PlannedLoraModule } from "./lora_plan.ts";
import type { LoraModuleWeights } from "./write_lora.ts";

/**
 * A LoRA tensor as given: a safetensors entry (raw bytes or the typed array of any float dtype,
 * as `parseSafetensors` returns and `formatLora` produces), or float32 values with a shape.
 */
export type LoraTensorInput =
  | { dtype: DType; shape: readonly number[]; data: ArrayBufferView }
  | { shape: readonly number[]; data: Float32Array };

/** A LoRA file's tensors by key (a Map such as `parseSafetensors(bytes).tensors`, or a record). */
export type LoraTensors = ReadonlyMap<string, LoraTensorInput> | Readonly<Record<string, LoraTensorInput>>;

/**
 * The tensors as planner entries with float32 values.
 *
 * @example
 * ```ts
 * loraEntries(parseSafetensors(bytes).tensors).get("unet.…to_q.lora.down.weight")!.values; // Float32Array
 * ```
 */
export function loraEntries(tensors: LoraTensors): Map<string, LoraEntry> {
  const source = tensors instanceof Map ? tensors : new Map(Object.entries(tensors as Record<string, LoraTensorInput>));
  const entries = new Map<string, LoraEntry>();
  for (const [key, t] of source) {
    entries.set(key, { shape: [...t.shape], values: float32Values(key, t) });
  }
  return entries;
}

function float32Values(key: string, t: LoraTensorInput): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (!("dtype" in t)) throw new TypeError(`Cannot read LoRA tensor "${key}": give float32 values or a dtype`);
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return toFloat32Array({ dtype: t.dtype, data: bytes, name: key });
}

/**
 * Planned modules with their values, as host weights (throws if a plan was made from shapes only).
 *
 * @example
 * ```ts
 * const { modules } = planLora(loraEntries(tensors), table);
 * const { tensors: kohya } = formatLora(plannedWeights(modules), "kohya");
 * ```
 */
export function plannedWeights(modules: readonly PlannedLoraModule[]): LoraModuleWeights[] {
  return modules.map((m) => {
    if (!m.down.values || !m.up.values) throw new Error(`Cannot read the LoRA of "${m.path}": it was planned from shapes only`);
    return {
      component: m.component,
      path: m.path,
      rank: m.rank,
      alpha: m.alpha,
      down: { shape: m.down.shape, data: m.down.values },
      up: { shape: m.up.shape, data: m.up.values },
    };
  });
}

/**
 * ΔW = multiplier·(alpha/rank)·up·down on the host, in the base weight's layout
 * ([out, in] or [out, in·kH·kW] flattened row-major), accumulated in f64, rounded to f32.
 *
 * @example
 * ```ts
 * const delta = hostDeltaWeight(module, 0.7); // Float32Array of out × in values
 * ```
 */
export function hostDeltaWeight(m: LoraModuleWeights, multiplier: number): Float32Array {
  const out = m.up.shape[0];
  const rank = m.rank;
  const inner = m.down.data.length / rank;
  const scale = multiplier * (m.alpha === null ? 1 : m.alpha / rank);
  const delta = new Float32Array(out * inner);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inner; i++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += m.up.data[o * rank + k] * m.down.data[k * inner + i];
      delta[o * inner + i] = sum * scale;
    }
  }
  return delta;
}
