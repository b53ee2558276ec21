import { type Tensor, tensor } from "../../../packages/wgpu-tensor/mod.ts";
import { type CaseContext, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/**
 * Moves a case's tensors to the GPU and results back, remembering what it made so one
 * `dispose()` frees everything (model cases make many intermediate tensors).
 */
export class CaseTensors {
  readonly #context: CaseContext;
  readonly #owned: Tensor[] = [];
  readonly outputs = new Map<string, ProducedOutput>();

  constructor(context: CaseContext) {
    this.#context = context;
  }

  /** A float input of the case file as an f32 tensor. */
  async float(name: string): Promise<Tensor> {
    const { data, shape } = await this.#context.float32(name);
    return this.own(tensor(data, shape, { device: this.#context.device }));
  }

  /** An integer input (I64 token ids, masks) as an i32 tensor. */
  async int(name: string): Promise<Tensor> {
    const { data, shape } = await this.#context.float32(name);
    return this.own(tensor(Int32Array.from(data), shape, { dtype: "i32", device: this.#context.device }));
  }

  /** Takes ownership of tensors made by the runner (returns the first). */
  own<T extends Tensor>(first: T, ...more: Tensor[]): T {
    this.#owned.push(first, ...more);
    return first;
  }

  /** Records `t` as output `name` (read back now). */
  async produce(name: string, t: Tensor): Promise<void> {
    this.own(t);
    this.outputs.set(name, { type: "tensor", data: await t.toArray(), shape: [...t.shape] });
  }

  dispose(): void {
    for (const t of this.#owned) if (!t.isDisposed) t.dispose();
    this.#owned.length = 0;
  }
}

/** The reader holding the case's weights (`weights_file`, else the case's own file) and their prefix. */
export async function caseWeights(context: CaseContext) {
  const reader = await context.open(context.manifest.weights_file ?? context.manifest.file!);
  return { reader, prefix: context.manifest.weights_prefix ?? "weights." };
}

/**
 * `build()`, with a model config the packages do not support (their `UnsupportedConfigError`)
 * turned into a skipped case instead of a failure.
 */
export function buildCaseModel<M>(build: () => M): M {
  try {
    return build();
  } catch (error) {
    if (error instanceof Error && error.name === "UnsupportedConfigError") throw new UnsupportedCaseError(error.message);
    throw error;
  }
}

/** Skips a case that feeds inputs this kind does not understand. */
export function checkCaseInputs(manifest: CaseContext["manifest"], known: readonly string[]): void {
  const unknown = manifest.inputs.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UnsupportedCaseError(`inputs ${unknown.join(", ")} are not understood`);
}
