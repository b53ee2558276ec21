import {
  type CLIPEncoderConfig,
  CLIPEncoderLayer,
  type CLIPEncoderLayerOptions,
  type CLIPVisionConfig,
  type CLIPVisionForwardOptions,
  type CLIPVisionOutput,
  CLIPVisionTransformer,
} from "@spo/clip";
import { add, type LayerOptions, mul, reshape, type Tensor, tidy } from "@spo/wgpu-tensor";
import { AdaLNModulation } from "./adaln_modulation.ts";

/** [B, hidden] → [B, 1, hidden], so a per-sample vector broadcasts over tokens. */
function perSample(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], 1, x.shape[1]]);
}

/**
 * A CLIP encoder layer with SPO's adaLN time modulation: `adaLN_modulation` (SiLU → Linear D → 6D)
 * turns the time embedding (the `conditioning` every layer receives) into shift/scale/gate for the
 * attention and MLP blocks, which the CLIP layer applies (`CLIPEncoderLayerOptions.modulation`).
 *
 * @example
 * ```ts
 * const layer = new TimeConditionedEncoderLayer(config);
 * layer.forward(tokens, { conditioning: tEmb }); // [B, L, D]
 * ```
 */
export class TimeConditionedEncoderLayer extends CLIPEncoderLayer {
  readonly adaLN_modulation: AdaLNModulation;

  constructor(config: CLIPEncoderConfig, options: LayerOptions = {}) {
    super(config, options);
    this.adaLN_modulation = this.registerModule("adaLN_modulation", new AdaLNModulation(config.hiddenSize, 6, options));
  }

  override forward(x: Tensor, options: CLIPEncoderLayerOptions = {}): Tensor {
    const conditioning = options.conditioning;
    if (!conditioning) throw new TypeError("Cannot run a time-conditioned encoder layer without its conditioning (the time embedding)");
    return tidy(() => {
      const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = this.adaLN_modulation.forward(conditioning).map(perSample);
      return super.forward(x, { ...options, modulation: { shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp } });
    });
  }
}

/**
 * SPO's time-conditioned CLIP vision tower (`vision_model.*`): CLIP's `CLIPVisionTransformer`
 * built with `TimeConditionedEncoderLayer`s, and a final `adaLN_modulation` (SiLU → Linear D → 2D)
 * on the pooled output: pooled = post_layernorm(h[:, 0])·(1 + scale) + shift.
 *
 * @example
 * ```ts
 * const vision = new TimeConditionedVisionTransformer(config);
 * vision.forward(pixelValues, { conditioning: tEmb }).pooledOutput; // [B, D]
 * ```
 */
export class TimeConditionedVisionTransformer extends CLIPVisionTransformer {
  readonly adaLN_modulation: AdaLNModulation;

  constructor(config: CLIPVisionConfig, options: LayerOptions = {}) {
    super(config, options, { createLayer: (layerConfig, layerOptions) => new TimeConditionedEncoderLayer(layerConfig, layerOptions) });
    this.adaLN_modulation = this.registerModule("adaLN_modulation", new AdaLNModulation(config.hiddenSize, 2, options));
  }

  /** `conditioning` is the time embedding [B, D]; required. */
  override forward(pixelValues: Tensor, options: CLIPVisionForwardOptions = {}): CLIPVisionOutput {
    const conditioning = options.conditioning;
    if (!conditioning) throw new TypeError("Cannot run the time-conditioned vision tower without its conditioning (the time embedding)");
    return tidy(() => {
      const output = super.forward(pixelValues, options);
      const [shift, scale] = this.adaLN_modulation.forward(conditioning);
      const pooledOutput = add(add(output.pooledOutput, mul(output.pooledOutput, scale)), shift);
      return { ...output, pooledOutput };
    });
  }
}
