/**
 * How a normalisation sees its input: `rows` contiguous rows of `rowLength` elements share a mean
 * and variance, and element `i` is scaled by channel `(i / inner) % channels` of the affine
 * weight and bias.
 *
 * - GroupNorm over [N, C, *spatial] with G groups: rows = N·G, rowLength = (C/G)·S,
 *   inner = S (the spatial size), channels = C.
 * - LayerNorm over the last dims (D elements): rows = size/D, rowLength = D, inner = 1, channels = D.
 *
 * A row always holds whole channels, so the channel only changes every `inner` elements.
 */
export interface NormLayout {
  rows: number;
  rowLength: number;
  inner: number;
  channels: number;
}

/** Elements per (row-independent) block of channels: the input viewed as [outer, channels, inner]. */
export function outerCount(layout: NormLayout): number {
  const perOuter = layout.channels * layout.inner;
  return perOuter === 0 ? 0 : (layout.rows * layout.rowLength) / perOuter;
}

export function groupNormLayout(shape: readonly number[], numGroups: number): NormLayout {
  const [batch, channels] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  return { rows: batch * numGroups, rowLength: (channels / numGroups) * inner, inner, channels };
}

export function layerNormLayout(shape: readonly number[], normalizedRank: number): NormLayout {
  const rowLength = shape.slice(shape.length - normalizedRank).reduce((a, b) => a * b, 1);
  const size = shape.reduce((a, b) => a * b, 1);
  return { rows: rowLength === 0 ? 0 : size / rowLength, rowLength, inner: 1, channels: rowLength };
}

/** Which channel the element at flat index `index` belongs to. */
export function channelOf(layout: NormLayout, index: number): number {
  return Math.floor(index / layout.inner) % layout.channels;
}
