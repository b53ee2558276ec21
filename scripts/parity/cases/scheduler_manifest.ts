/**
 * Reading a `scheduler` oracle manifest (shared/fixtures/oracle/README.md): which diffusers class,
 * which config variant an output belongs to, the inputs of a group, and the facts its description
 * states in words (the step count, η, the fake model's coefficient).
 * @module
 */

/** A tensor of a parity case: row-major values and a shape. */
export interface ParityTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** The fields of an oracle manifest that a `scheduler` case uses. */
export interface SchedulerManifest {
  name: string;
  kind: string;
  description?: string;
  /** One diffusers config dict, or several by variant name (outputs are then `<variant>.<name>`). */
  config: Record<string, unknown>;
  inputs: readonly string[];
  outputs: readonly string[];
  shapes?: Record<string, readonly number[]>;
  source?: string;
}

/** The scheduler classes a case can name. */
export const SCHEDULER_CLASSES = [
  "DDIMScheduler",
  "DDPMScheduler",
  "EulerAncestralDiscreteScheduler",
  "DPMSolverMultistepScheduler",
] as const;
export type SchedulerClassName = (typeof SCHEDULER_CLASSES)[number];

/** Output groups with their own inputs (`step.*`, `add_noise.*`, `traj.*`); "" is the top level. */
export const GROUPS = ["step", "add_noise", "traj"] as const;

/** The diffusers class of a case: named in `source` (e.g. "diffusers@0.26.1 DDIMScheduler (...)"), else in `name`. */
export function schedulerClassOf(manifest: SchedulerManifest): SchedulerClassName {
  const source = manifest.source ?? "";
  const named = SCHEDULER_CLASSES.find((name) => new RegExp(`\\b${name}\\b`).test(source));
  if (named) return named;
  const byName: [RegExp, SchedulerClassName][] = [
    [/euler_?a|euler_ancestral/i, "EulerAncestralDiscreteScheduler"],
    [/dpm/i, "DPMSolverMultistepScheduler"],
    [/ddpm/i, "DDPMScheduler"],
    [/ddim/i, "DDIMScheduler"],
  ];
  const guess = byName.find(([pattern]) => pattern.test(manifest.name));
  if (guess) return guess[1];
  throw new Error(`Cannot run scheduler case "${manifest.name}": its source ("${source}") names none of ${SCHEDULER_CLASSES.join(", ")}`);
}

/** The config variants: `{plain: {...}, karras: {...}}` gives two, a flat config one named "". */
export function configVariants(config: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const entries = Object.entries(config);
  const isNested = entries.length > 0 && entries.every(([, value]) => value !== null && typeof value === "object" && !Array.isArray(value));
  if (!isNested) return new Map([["", config]]);
  return new Map(entries as [string, Record<string, unknown>][]);
}

/** An output name split into its variant, group and field: "karras.samples" → ["karras", "", "samples"]. */
export interface OutputName {
  variant: string;
  group: string;
  field: string;
}

export function splitOutputName(name: string, variants: readonly string[]): OutputName {
  let rest = name;
  let variant = "";
  const prefixed = variants.find((v) => v !== "" && name.startsWith(`${v}.`));
  if (prefixed !== undefined) {
    variant = prefixed;
    rest = name.slice(prefixed.length + 1);
  } else if (!variants.includes("")) {
    throw new Error(`Cannot place output "${name}": it starts with none of the config variants ${variants.join(", ")}`);
  }
  const group = GROUPS.find((g) => rest.startsWith(`${g}.`)) ?? "";
  return { variant, group, field: group === "" ? rest : rest.slice(group.length + 1) };
}

/** Finds the tensors of a case by name, trying `<variant>.<group>.<name>`, then without the variant. */
export class CaseTensors {
  readonly #tensors: Map<string, ParityTensor>;

  constructor(tensors: Map<string, ParityTensor>) {
    this.#tensors = tensors;
  }

  find(variant: string, group: string, names: readonly string[]): ParityTensor | undefined {
    for (const name of names) {
      const local = group === "" ? name : `${group}.${name}`;
      const candidates = variant === "" ? [local] : [`${variant}.${local}`, local];
      for (const key of candidates) {
        const found = this.#tensors.get(key);
        if (found) return found;
      }
    }
    return undefined;
  }

  get(variant: string, group: string, names: readonly string[]): ParityTensor {
    const found = this.find(variant, group, names);
    if (!found) throw new Error(`Cannot find input ${names.map((n) => (group ? `${group}.${n}` : n)).join(" or ")} in the case`);
    return found;
  }
}

/**
 * The part of the description about `group` (from its first "group." mention to the next other
 * group's), or the whole description for the top level.
 */
export function descriptionFor(description: string, group: string): string {
  if (group === "") return description;
  const start = description.indexOf(`${group}.`);
  if (start < 0) return "";
  const ends = GROUPS.filter((g) => g !== group)
    .map((g) => description.indexOf(`${g}.`, start + 1))
    .filter((i) => i > start);
  return description.slice(start, ends.length > 0 ? Math.min(...ends) : undefined);
}

/** The n of `set_timesteps(n)` when the text names exactly one. */
export function stepCountIn(text: string): number | undefined {
  const counts = new Set([...text.matchAll(/set_timesteps\((\d+)\)/g)].map((m) => Number(m[1])));
  return counts.size === 1 ? [...counts][0] : undefined;
}

/** η when the text says "eta <x>" (or "eta = <x>"). */
export function etaIn(text: string): number | undefined {
  const match = /\beta\s*=?\s*(\d+(?:\.\d+)?)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** k of the fake model "eps = k * <input> + c" (default 0.1, the value every case uses so far). */
export function fakeModelScaleIn(text: string): number {
  const match = /eps\s*=\s*([0-9.]+(?:e-?\d+)?)\s*\*/.exec(text);
  return match ? Number(match[1]) : 0.1;
}

/** η of an output field named like "eta0.prev_sample" or "eta0p5.prev_sample". */
export function etaOfField(field: string): { eta: number | undefined; name: string } {
  const match = /^eta(\d+(?:[.p_]\d+)?)\.(.+)$/.exec(field);
  if (!match) return { eta: undefined, name: field };
  return { eta: Number(match[1].replace(/[p_]/, ".")), name: match[2] };
}
