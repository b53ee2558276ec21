import { type Device, type Tensor, tensor } from "@spo/wgpu-tensor";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { TfjsPeer } from "./tfjs_side.ts";

/** The same values on both sides: a host copy, our tensor and (when the peer runs) a tfjs tensor. */
export interface SharedInput {
  host: Float32Array;
  shape: number[];
  ours: Tensor;
  /** Null when the peer did not start or cannot run the case. */
  peer: TfCore.Tensor | null;
}

/**
 * Seeded uniform values in [low, high) (mulberry32, so every run and both sides see the same data).
 *
 * @example
 * ```ts
 * seededFloats(1, 3); // Float32Array of 3 values in [-1, 1)
 * ```
 */
export function seededFloats(seed: number, count: number, low = -1, high = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export interface SharedInputOptions {
  low?: number;
  high?: number;
  /** The peer's copy in another layout (e.g. NHWC): its shape and the host values rearranged. */
  peerLayout?: { shape: number[]; rearrange: (host: Float32Array) => Float32Array };
  /** Make no peer copy even if the peer runs. */
  withoutPeer?: boolean;
}

/**
 * Uploads seeded values to our device and, when there is a peer, creates the same tfjs tensor.
 *
 * @example
 * ```ts
 * const x = sharedInput(context.device, context.peer, 1, [2, 320, 64, 64]);
 * ```
 */
export function sharedInput(
  device: Device,
  peer: TfjsPeer | null,
  seed: number,
  shape: number[],
  options: SharedInputOptions = {},
): SharedInput {
  const size = shape.reduce((a, b) => a * b, 1);
  const host = seededFloats(seed, size, options.low ?? -1, options.high ?? 1);
  const ours = tensor(host, shape, { device });
  let peerTensor: TfCore.Tensor | null = null;
  if (peer && !options.withoutPeer) {
    const layout = options.peerLayout;
    peerTensor = layout ? peer.tf.tensor(layout.rearrange(host), layout.shape) : peer.tf.tensor(host, shape);
  }
  return { host, shape, ours, peer: peerTensor };
}

/** Disposes both sides of shared inputs. */
export function disposeInputs(inputs: readonly SharedInput[]): void {
  for (const input of inputs) {
    input.ours.dispose();
    input.peer?.dispose();
  }
}

/** The peer's tensor of an input; throws if the case set up without a peer by mistake. */
export function peerOf(input: SharedInput): TfCore.Tensor {
  if (!input.peer) throw new Error("Cannot run the peer: this input has no tfjs copy");
  return input.peer;
}
