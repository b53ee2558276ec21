import { type LayerOptions, Linear, Module, narrow, silu, type Tensor, tidy } from "@spo/wgpu-tensor";

/**
 * DiT's `adaLN_modulation`: nn.Sequential(SiLU, Linear(hidden, chunks·hidden)), so the checkpoint
 * names its Linear `adaLN_modulation.1`. `forward(c)` gives the `chunks` vectors [B, hidden] in the
 * order of `.chunk(chunks, dim=1)`: (shift, scale, gate)×2 for a layer, (shift, scale) for the
 * pooled output.
 *
 * @example
 * ```ts
 * const modulation = new AdaLNModulation(1280, 6);
 * const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = modulation.forward(tEmb);
 * ```
 */
export class AdaLNModulation extends Module {
  readonly hiddenSize: number;
  readonly chunks: number;
  readonly linear: Linear;

  constructor(hiddenSize: number, chunks: number, options: LayerOptions = {}) {
    super();
    this.hiddenSize = hiddenSize;
    this.chunks = chunks;
    this.linear = this.registerModule("1", new Linear(hiddenSize, chunks * hiddenSize, options));
  }

  /** c [B, hidden] → `chunks` tensors [B, hidden]. */
  forward(conditioning: Tensor): Tensor[] {
    return tidy(() => {
      const all = this.linear.forward(silu(conditioning));
      return Array.from({ length: this.chunks }, (_, i) => narrow(all, 1, i * this.hiddenSize, this.hiddenSize));
    });
  }
}
