import {
  add,
  clamp,
  Conv2d,
  type LayerOptions,
  Module,
  mul,
  relu,
  ShapeError,
  tanh,
  type Tensor,
  tidy,
  upsampleNearest,
  withInitStream,
} from "@spo/wgpu-tensor";
import { TAESDBlock } from "./taesd_block.ts";
import { type TaesdConfig, taesdConfigFromJson } from "./taesd_config.ts";
import { taesdDecoderLayers, taesdEncoderLayers, type TaesdLayer } from "./taesd_layers.ts";

/** One built layer: a module (conv, block) or a parameter-free function. */
type Step = Conv2d | TAESDBlock | ((x: Tensor) => Tensor);

function buildStep(layer: TaesdLayer, options: LayerOptions): Step {
  switch (layer.kind) {
    case "conv":
      return new Conv2d(layer.inChannels, layer.outChannels, 3, { ...options, padding: 1, stride: layer.stride, bias: layer.bias });
    case "block":
      return new TAESDBlock(layer.inChannels, layer.outChannels, options);
    case "relu":
      return relu;
    case "upsample":
      return (x: Tensor) => upsampleNearest(x, { scaleFactor: 2 });
    case "clamp":
      // taesd.py `Clamp`: a soft clamp of the latents to (−3, 3)
      return (x: Tensor) => tidy(() => mul(tanh(mul(x, 1 / 3)), 3));
  }
}

/**
 * taesd.py's `nn.Sequential` with the checkpoint's keys: layer i with parameters is registered
 * as `"<i>"` (`"1.weight"`, `"3.conv.0.weight"`), parameter-free layers only run.
 */
class TaesdSequential extends Module {
  readonly steps: Step[];
  readonly inChannels: number;

  constructor(layers: TaesdLayer[], options: LayerOptions) {
    super();
    this.steps = layers.map((layer, i) => {
      const step = buildStep(layer, options);
      return step instanceof Module ? this.registerModule(String(i), step) : step;
    });
    const first = layers.find((layer) => layer.kind === "conv" || layer.kind === "block");
    this.inChannels = first && "inChannels" in first ? first.inChannels : 0;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(
        this.constructor.name,
        [x.shape],
        `Cannot run ${this.constructor.name} on a tensor of shape [${x.shape.join(", ")}]: expected [batch, ${this.inChannels}, height, width]`,
      );
    }
    return tidy(() => this.steps.reduce<Tensor>((h, step) => (typeof step === "function" ? step(h) : step.forward(h)), x));
  }
}

/**
 * TAESD's encoder (madebyollin/taesd `Encoder`): RGB in [0, 1] [B, 3, H, W] → raw latents
 * [B, C, H/8, W/8] in the UNet's latent space (already scaled like `z · 0.18215` for SD).
 * Loads `taesd_encoder` checkpoints as they are (keys `0.weight`, `1.conv.0.weight`, …).
 *
 * @example
 * ```ts
 * const encoder = new TAESDEncoder(taesdConfigFromJson({}));
 * encoder.forward(image); // [1, 3, 512, 512] → [1, 4, 64, 64]
 * ```
 */
export class TAESDEncoder extends TaesdSequential {
  constructor(config: TaesdConfig, options: LayerOptions = {}) {
    super(taesdEncoderLayers(config.latentChannels, config.archVariant), options);
  }
}

/**
 * TAESD's decoder (madebyollin/taesd `Decoder`): latents [B, C, h, w] (UNet space) → RGB of
 * about [0, 1] [B, 3, 8h, 8w], not clamped. Soft-clamps its input to (−3, 3) first. Loads
 * `taesd_decoder` checkpoints as they are (keys `1.weight`, `3.conv.0.weight`, …).
 *
 * @example
 * ```ts
 * const decoder = new TAESDDecoder(taesdConfigFromJson({}));
 * const preview = clamp(decoder.forward(latents), 0, 1); // live previews of x̂0
 * ```
 */
export class TAESDDecoder extends TaesdSequential {
  constructor(config: TaesdConfig, options: LayerOptions = {}) {
    super(taesdDecoderLayers(config.latentChannels, config.archVariant), options);
  }
}

/**
 * madebyollin/taesd's `TAESD`: the tiny encoder and decoder together (`encoder.*`, `decoder.*`),
 * with taesd.py's latent scaling helpers for 8-bit latent images.
 *
 * @example
 * ```ts
 * const taesd = TAESD.fromConfig({ latent_channels: 4 }, { init: "meta" });
 * await loadTaesdWeights(taesd, reader);
 * const reconstruction = taesd.decode(taesd.encode(image));
 * ```
 */
export class TAESD extends Module {
  readonly config: TaesdConfig;
  readonly encoder: TAESDEncoder;
  readonly decoder: TAESDDecoder;

  constructor(config: TaesdConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    this.encoder = this.registerModule("encoder", new TAESDEncoder(config, options));
    this.decoder = this.registerModule("decoder", new TAESDDecoder(config, options));
  }

  /** Builds it from a taesd config or a diffusers `AutoencoderTiny` config.json (see `taesdConfigFromJson`). */
  static fromConfig(json: Record<string, unknown> = {}, options: LayerOptions = {}): TAESD {
    return new TAESD(taesdConfigFromJson(json), options);
  }

  /** RGB in [0, 1] → raw latents. */
  encode(image: Tensor): Tensor {
    return this.encoder.forward(image);
  }

  /** Raw latents → RGB of about [0, 1] (not clamped). */
  decode(latents: Tensor): Tensor {
    return this.decoder.forward(latents);
  }

  /** taesd.py `scale_latents`: raw latents → [0, 1], x/(2·magnitude) + shift, clamped. */
  scaleLatents(latents: Tensor): Tensor {
    const { latentMagnitude, latentShift } = this.config;
    return tidy(() => clamp(add(mul(latents, 1 / (2 * latentMagnitude)), latentShift), 0, 1));
  }

  /** taesd.py `unscale_latents`: [0, 1] → raw latents, (x − shift)·2·magnitude. */
  unscaleLatents(scaled: Tensor): Tensor {
    const { latentMagnitude, latentShift } = this.config;
    return tidy(() => mul(add(scaled, -latentShift), 2 * latentMagnitude));
  }
}
