import { noGrad } from "../autograd/grad_mode.ts";
import { keep } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { DeviceMismatchError } from "../tensor/errors.ts";
import { formatShape, shapesEqual } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A value `loadStateDict` accepts: a tensor, or host data with its shape (e.g. a decoded safetensors entry). */
export type StateValue = Tensor | { shape: readonly number[]; data: ArrayLike<number> };

/** What `loadStateDict` found, by checkpoint name. */
export interface LoadReport {
  /** Parameters of the module that the state dict did not provide. */
  missing: string[];
  /** Entries of the state dict that match no parameter. */
  unexpected: string[];
  /** Entries whose shape differs from the parameter's. */
  mismatched: { name: string; expected: number[]; got: number[] }[];
  /** Names that were loaded. */
  loaded: string[];
}

/** Thrown by a strict `loadStateDict` that found missing, unexpected or mis-shaped keys. */
export class StateDictError extends Error {
  override name = "StateDictError";
  constructor(readonly report: LoadReport) {
    super(describeReport(report));
  }
}

/**
 * The base of every layer and model. Children and parameters are registered explicitly at
 * construction under their checkpoint names (`to_q`, `down_blocks.0`), so `namedParameters()`
 * yields exactly the keys of PyTorch/diffusers state dicts and loading is a walk.
 *
 * @example
 * ```ts
 * class Mlp extends Module {
 *   readonly fc1 = this.registerModule("fc1", new Linear(4, 8));
 *   readonly fc2 = this.registerModule("fc2", new Linear(8, 1));
 *   forward(x: Tensor) { return this.fc2.forward(silu(this.fc1.forward(x))); }
 * }
 * [...new Mlp().namedParameters()].map(([name]) => name); // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
 * ```
 */
export class Module {
  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();
  #isTraining = true;

  /** Registers a trainable tensor (requiresGrad on) under a checkpoint name; `null` for an absent optional one. */
  registerParameter(name: string, value: Tensor | null): Tensor {
    this.#checkName(name);
    if (value) {
      keep(value);
      value.requiresGrad = true;
    }
    this.#parameters.set(name, value);
    return value as Tensor;
  }

  /** Registers a non-trainable tensor that is still part of the state dict (e.g. position ids). */
  registerBuffer(name: string, value: Tensor): Tensor {
    this.#checkName(name);
    this.#buffers.set(name, keep(value));
    return value;
  }

  registerModule<M extends Module>(name: string, child: M): M {
    this.#checkName(name);
    this.#children.set(name, child);
    return child;
  }

  /** Every parameter with its dotted checkpoint name, depth first in registration order. */
  *namedParameters(prefix = ""): Generator<[string, Tensor]> {
    for (const [name, value] of this.#parameters) if (value) yield [prefix + name, value];
    for (const [name, child] of this.#children) yield* child.namedParameters(`${prefix}${name}.`);
  }

  *namedBuffers(prefix = ""): Generator<[string, Tensor]> {
    for (const [name, value] of this.#buffers) yield [prefix + name, value];
    for (const [name, child] of this.#children) yield* child.namedBuffers(`${prefix}${name}.`);
  }

  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ""), this];
    for (const [name, child] of this.#children) yield* child.namedModules(`${prefix}${name}.`);
  }

  children(): Module[] {
    return [...this.#children.values()];
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, value]) => value);
  }

  /** Number of scalars in all parameters. */
  parameterCount(): number {
    return this.parameters().reduce((count, p) => count + p.size, 0);
  }

  /** Parameters and buffers by checkpoint name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into parameters and buffers by checkpoint name. Reports missing, unexpected and
   * mis-shaped keys; by default (`strict`) throws StateDictError if there are any, before copying.
   */
  loadStateDict(entries: Map<string, StateValue> | Record<string, StateValue>, options: { strict?: boolean } = {}): LoadReport {
    const source = entries instanceof Map ? entries : new Map(Object.entries(entries));
    const targets = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: [] };
    for (const [name, target] of targets) {
      const value = source.get(name);
      if (!value) report.missing.push(name);
      else if (!shapesEqual(value.shape, target.shape)) {
        report.mismatched.push({ name, expected: [...target.shape], got: [...value.shape] });
      }
    }
    for (const name of source.keys()) if (!targets.has(name)) report.unexpected.push(name);
    for (const [name, target] of targets) {
      const value = source.get(name);
      if (value && "storageFor" in value && value.device !== target.device) throw otherDeviceError(`"${name}"`);
    }
    const isClean = report.missing.length + report.unexpected.length + report.mismatched.length === 0;
    if ((options.strict ?? true) && !isClean) throw new StateDictError(report);
    const skip = new Set(report.mismatched.map((m) => m.name));
    noGrad(() => {
      for (const [name, target] of targets) {
        const value = source.get(name);
        if (!value || skip.has(name)) continue;
        loadTensorInto(target, value);
        report.loaded.push(name);
      }
    });
    return report;
  }

  get isTraining(): boolean {
    return this.#isTraining;
  }

  /** Training mode on (dropout active) for this module and its children. */
  train(mode = true): this {
    this.#isTraining = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Turns gradients on or off for every parameter (freezing is `requiresGrad_(false)`). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Drops every parameter's accumulated gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the GPU memory of all parameters and buffers. */
  dispose(): void {
    for (const [, value] of this.namedParameters()) value.dispose();
    for (const [, value] of this.namedBuffers()) value.dispose();
  }

  #checkName(name: string): void {
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`Cannot register "${name}": the module already has a member of that name`);
    }
  }
}

/**
 * Overwrites a parameter's contents in place (same storage, materialising a meta tensor), from a
 * tensor or host data of the same shape. Loaders that stream checkpoints tensor by tensor use it.
 */
export function loadTensorInto(target: Tensor, value: StateValue): void {
  if (!shapesEqual(value.shape, target.shape)) {
    throw new RangeError(
      `Cannot load a tensor of shape ${formatShape(value.shape)} into a parameter of shape ${formatShape(target.shape)}`,
    );
  }
  const device = target.device;
  target.materialize();
  if ("storageFor" in value) {
    if (value.device !== device) throw otherDeviceError(`a tensor of shape ${formatShape(value.shape)}`);
    if (value.dtype !== target.dtype) {
      throw new TypeError(
        `Cannot load a ${value.dtype} tensor into a ${target.dtype} parameter of shape ${formatShape(target.shape)}: cast it first`,
      );
    }
    device.queue.copy(value.buffer, 0, target.buffer, 0, Math.ceil(target.byteLength / 4) * 4);
    return;
  }
  const staged = tensor(value.data, target.shape, { dtype: target.dtype, device });
  device.queue.copy(staged.buffer, 0, target.buffer, 0, Math.ceil(target.byteLength / 4) * 4);
  staged.dispose();
}

/** Copying between devices needs a trip through the host, which a synchronous load cannot make. */
function otherDeviceError(what: string): DeviceMismatchError {
  return new DeviceMismatchError(
    "loadStateDict",
    `Cannot load ${what}: it lives on another device than the module's parameters; read it to the host first (await tensor.toArray()) or make it on the module's device`,
  );
}

function describeReport(report: LoadReport): string {
  const parts: string[] = [];
  if (report.missing.length) parts.push(`${report.missing.length} missing (${preview(report.missing)})`);
  if (report.unexpected.length) parts.push(`${report.unexpected.length} unexpected (${preview(report.unexpected)})`);
  for (const m of report.mismatched.slice(0, 5)) {
    parts.push(`"${m.name}": expected shape ${formatShape(m.expected)}, got ${formatShape(m.got)}`);
  }
  if (report.mismatched.length > 5) parts.push(`and ${report.mismatched.length - 5} more mis-shaped`);
  return `Cannot load state dict: ${parts.join("; ")}`;
}

function preview(names: string[]): string {
  return (
    names
      .slice(0, 5)
      .map((n) => `"${n}"`)
      .join(", ") + (names.length > 5 ? ", …" : "")
  );
}
