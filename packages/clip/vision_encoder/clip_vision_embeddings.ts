import {
  toDType,
  add,
  broadcastTo,
  concat,
  Conv2d,
  Device,
  Embedding,
  type LayerOptions,
  Module,
  permute,
  reshape,
  ShapeError,
  keep,
  mul,
  noGrad,
  randn,
  Tensor,
  tidy,
  zeros,
} from "@spo/wgpu-tensor";
import type { CLIPVisionConfig } from "../transformer/clip_config.ts";

/**
 * transformers' `CLIPVisionEmbeddings`: non-overlapping patches (a conv with stride = kernel =
 * patch size, no bias), a learned class token in front, plus learned position embeddings.
 * [B, C, S, S] → [B, 1 + (S/patch)², hidden].
 *
 * @example
 * ```ts
 * const embeddings = new CLIPVisionEmbeddings(config); // ViT-L/14 at 224: 257 tokens
 * embeddings.forward(pixelValues).shape; // [B, 257, 1024]
 * ```
 */
export class CLIPVisionEmbeddings extends Module {
  readonly config: CLIPVisionConfig;
  readonly class_embedding: Tensor;
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Embedding;
  readonly numPositions: number;

  constructor(config: CLIPVisionConfig, options: LayerOptions = {}) {
    super();
    this.config = config;
    const { hiddenSize, numChannels, patchSize, imageSize } = config;
    this.numPositions = (imageSize / patchSize) ** 2 + 1;
    this.class_embedding = this.registerParameter("class_embedding", classEmbeddingInit(hiddenSize, options));
    this.patch_embedding = this.registerModule(
      "patch_embedding",
      new Conv2d(numChannels, hiddenSize, patchSize, { ...options, stride: patchSize, bias: false }),
    );
    this.position_embedding = this.registerModule("position_embedding", new Embedding(this.numPositions, hiddenSize, options));
  }

  forward(pixelValues: Tensor): Tensor {
    const { numChannels, imageSize, hiddenSize } = this.config;
    const [batch, channels, height, width] = pixelValues.shape;
    if (pixelValues.ndim !== 4 || channels !== numChannels || height !== imageSize || width !== imageSize) {
      throw new ShapeError(
        "CLIPVisionEmbeddings",
        [pixelValues.shape],
        `Cannot embed pixel values of shape [${pixelValues.shape.join(", ")}]: expected [batch, ${numChannels}, ${imageSize}, ${imageSize}]`,
      );
    }
    return tidy(() => {
      // 1. patches: [B, hidden, g, g] → [B, g², hidden]
      // (an f16 model takes f32 pixels: cast once to the weights' dtype, PRECISION_RULES.activations)
      const patches = this.patch_embedding.forward(toDType(pixelValues, this.patch_embedding.weight.dtype));
      const tokens = permute(reshape(patches, [batch, hiddenSize, this.numPositions - 1]), [0, 2, 1]);
      // 2. the class token in front
      const classToken = broadcastTo(reshape(this.class_embedding, [1, 1, hiddenSize]), [batch, 1, hiddenSize]);
      const sequence = concat([classToken, tokens], 1);
      // 3. learned positions
      return add(sequence, this.position_embedding.weight);
    });
  }
}

/** transformers' init of the class token: N(0, 1/hidden); shape only for `init: "meta"`. */
function classEmbeddingInit(hiddenSize: number, options: LayerOptions): Tensor {
  const device = options.device ?? Device.default;
  if (options.init === "meta") return Tensor.meta([hiddenSize], options.dtype ?? "f32", device);
  if (options.init === "zeros") return zeros([hiddenSize], { device, dtype: options.dtype });
  return keep(
    noGrad(() => tidy(() => mul(randn([hiddenSize], { seed: options.seed ?? 0x5eed, device, dtype: options.dtype }), hiddenSize ** -0.5))),
  );
}
