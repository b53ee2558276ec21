import type { Device } from "@spo/wgpu-tensor";
import type { OrtPeer } from "./ort_peer_node.ts";
import type { TfjsPeer } from "./tfjs_side.ts";

/**
 * One way of computing a case's answer: ours, the peer's, or raw Dawn. The harness calls `run()`
 * once per repetition, waits with `sync()`, and hands the result back to `release()`; `read()` is
 * used only by the correctness check, before any timing.
 */
export interface Side<R = unknown> {
  /** Who this is, as the table names it: "ours", "tfjs-webgpu", "raw Dawn". */
  readonly label: string;
  /** The GPUDevice the work is recorded on (its passes get timestamp queries). */
  readonly gpu: GPUDevice;
  /** Records (and may submit) one run of the case; returns what it computed. */
  run(): R;
  /** Submits anything recorded and resolves when the GPU has finished it. */
  sync(): Promise<void>;
  /** The result as f32 values in our layout (row-major, NCHW), for the check. */
  read(result: R): Promise<Float32Array>;
  /** Frees a result. */
  release(result: R): void;
}

/** What a case's `check` found; `ok: false` fails the case before it is timed. */
export interface CheckReport {
  ok: boolean;
  /** One line: the largest error found and what it was compared against. */
  detail: string;
}

/** A case ready to run: its two sides and the inputs they share, until `dispose()`. */
export interface CaseRun {
  ours: Side;
  /** Null when the peer cannot run this case (`BenchCase.peerUnavailable` says why). */
  peer: Side | null;
  /**
   * Compares our answer with another one computed independently. Default: run both sides once and
   * compare every value within `BenchCase.tolerance`. Cases without a peer must supply it.
   */
  check?: () => Promise<CheckReport>;
  dispose(): void;
}

/** Everything a case may set up against: our device, the peer (null when it failed to start). */
export interface BenchContext {
  device: Device;
  peer: TfjsPeer | null;
  /** With `--peer=ort`: onnxruntime-web's WebGPU EP instead of tfjs (`peer` is then null). */
  ort?: OrtPeer | null;
}

/** `|ours − peer| ≤ atol + rtol·|peer|` for every element. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** A benchmark case, shaped like a piece of SD1.5 work (the name states any scaling). */
export interface BenchCase {
  name: string;
  /** Groups cases in the table and lets a filter pick a family ("matmul", "attention", …). */
  group: string;
  /** Floating-point operations of one run (a multiply-add counts 2): the GFLOP/s column. */
  flops?: number;
  /**
   * Bytes one run must move at least (each input read once, the output written once): the GB/s
   * column, for memory-bound cases without a meaningful flop count.
   */
  bytes?: number;
  /** Ops in one run: the throughput column shows µs per op (dispatch-overhead cases). */
  opsPerRun?: number;
  /** Why the peer cannot run the case (null: it can); it is then timed for ours only. */
  peerUnavailable?(context: BenchContext): string | null;
  /** Too slow for the default run on a CPU adapter: runs only with `--full`. */
  isHeavy?: boolean;
  /** At most this many timed repetitions (cheap cases want more than the default 10). */
  maxReps?: number;
  /** Default check tolerance. Default: atol 1e-4, rtol 1e-3. */
  tolerance?: Tolerance;
  /** "wall" times host recording + GPU work to completion; "gpu" (default) sums timestamp-queried passes. */
  timing?: "gpu" | "wall";
  /** A reason to skip the case (an op or model that does not exist yet), or null to run it. */
  skipReason?(context: BenchContext): string | null;
  setup(context: BenchContext): CaseRun | Promise<CaseRun>;
}
