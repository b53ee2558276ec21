import {
  add,
  Attention,
  Conv2d,
  gelu,
  GroupNorm,
  type LayerOptions,
  layerOptions,
  LayerNorm,
  Linear,
  Module,
  mul,
  narrow,
  permute,
  reshape,
  type Tensor,
  tidy,
} from "@spo/wgpu-tensor";

export interface TransformerOptions extends LayerOptions {
  heads: number;
  crossAttentionDim: number;
  groups: number;
  layers: number;
  useLinearProjection: boolean;
}

/** diffusers' FeedForward with GEGLU: net.2(a · GELU(g)) where [a | g] = net.0.proj(x). */
export class FeedForward extends Module {
  readonly proj: Linear;
  readonly out: Linear;

  constructor(dim: number, options: LayerOptions = {}) {
    super();
    const inner = 4 * dim;
    const layer = layerOptions(options);
    this.proj = this.registerModule("net.0.proj", new Linear(dim, 2 * inner, layer));
    this.out = this.registerModule("net.2", new Linear(inner, dim, layer));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const projected = this.proj.forward(x);
      const inner = projected.shape.at(-1)! / 2;
      const hidden = narrow(projected, -1, 0, inner);
      const gate = narrow(projected, -1, inner, inner);
      return this.out.forward(mul(hidden, gelu(gate)));
    });
  }
}

/** Self-attention, cross-attention and feed-forward, each pre-normed with a residual. */
export class BasicTransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn1: Attention;
  readonly norm2: LayerNorm;
  readonly attn2: Attention;
  readonly norm3: LayerNorm;
  readonly ff: FeedForward;

  constructor(dim: number, options: TransformerOptions) {
    super();
    const dimHead = dim / options.heads;
    const layer = layerOptions(options);
    const norm = { ...layer, eps: 1e-5 };
    this.norm1 = this.registerModule("norm1", new LayerNorm(dim, norm));
    this.attn1 = this.registerModule("attn1", new Attention(dim, { ...layer, heads: options.heads, dimHead, bias: false }));
    this.norm2 = this.registerModule("norm2", new LayerNorm(dim, norm));
    this.attn2 = this.registerModule(
      "attn2",
      new Attention(dim, { ...layer, heads: options.heads, dimHead, bias: false, crossAttentionDim: options.crossAttentionDim }),
    );
    this.norm3 = this.registerModule("norm3", new LayerNorm(dim, norm));
    this.ff = this.registerModule("ff", new FeedForward(dim, layer));
  }

  forward(x: Tensor, context: Tensor): Tensor {
    return tidy(() => {
      let h = add(x, this.attn1.forward(this.norm1.forward(x)));
      h = add(h, this.attn2.forward(this.norm2.forward(h), context));
      return add(h, this.ff.forward(this.norm3.forward(h)));
    });
  }
}

/**
 * diffusers' Transformer2DModel (LDM's SpatialTransformer): GroupNorm (eps 1e-6), project in,
 * flatten pixels to tokens (index y·W + x), transformer blocks, project out, add the input.
 */
export class Transformer2DModel extends Module {
  readonly norm: GroupNorm;
  readonly proj_in: Conv2d | Linear;
  readonly transformer_blocks: BasicTransformerBlock[];
  readonly proj_out: Conv2d | Linear;
  readonly useLinearProjection: boolean;

  constructor(channels: number, options: TransformerOptions) {
    super();
    this.useLinearProjection = options.useLinearProjection;
    const layer = layerOptions(options);
    this.norm = this.registerModule("norm", new GroupNorm(options.groups, channels, { ...layer, eps: 1e-6 }));
    const project = () => (options.useLinearProjection ? new Linear(channels, channels, layer) : new Conv2d(channels, channels, 1, layer));
    this.proj_in = this.registerModule("proj_in", project());
    this.transformer_blocks = Array.from({ length: options.layers }, (_, i) =>
      this.registerModule(`transformer_blocks.${i}`, new BasicTransformerBlock(channels, options)),
    );
    this.proj_out = this.registerModule("proj_out", project());
  }

  forward(x: Tensor, context: Tensor): Tensor {
    return tidy(() => {
      const [batch, channels, height, width] = x.shape;
      const toTokens = (t: Tensor) => reshape(permute(t, [0, 2, 3, 1]), [batch, height * width, channels]);
      const toImage = (t: Tensor) => permute(reshape(t, [batch, height, width, channels]), [0, 3, 1, 2]);
      // 1. normalise and project to tokens
      const normed = this.norm.forward(x);
      let h = this.useLinearProjection ? this.proj_in.forward(toTokens(normed)) : toTokens(this.proj_in.forward(normed));
      // 2. attend
      for (const block of this.transformer_blocks) h = block.forward(h, context);
      // 3. back to an image, project, residual
      const out = this.useLinearProjection ? toImage(this.proj_out.forward(h)) : this.proj_out.forward(toImage(h));
      return add(out, x);
    });
  }
}
