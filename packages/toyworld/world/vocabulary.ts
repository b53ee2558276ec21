/**
 * The toy world's words: shapes, colours, sizes, positions, relations and backgrounds, with the
 * numbers the renderer and the reward share (RGB in [0, 1], sizes and places as fractions of the
 * image side). One table per kind so the grammar, the parser, the renderer and the reward cannot
 * disagree about what a word means.
 */

/** Shapes, each drawn inside a square box whose side is the object's size. */
export const SHAPES = ["circle", "square", "triangle"] as const;
export type Shape = (typeof SHAPES)[number];

/** Object colours (RGB in [0, 1]); chosen far from each other and from every background. */
export const COLOURS = {
  red: [0.86, 0.12, 0.12],
  green: [0.1, 0.65, 0.2],
  blue: [0.12, 0.25, 0.9],
  yellow: [0.95, 0.8, 0.1],
  purple: [0.55, 0.15, 0.75],
  orange: [0.98, 0.5, 0.05],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Colour = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

/** Background colours (RGB in [0, 1]). */
export const BACKGROUNDS = {
  white: [0.96, 0.96, 0.96],
  black: [0.06, 0.06, 0.06],
  gray: [0.5, 0.5, 0.5],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Background = keyof typeof BACKGROUNDS;
export const BACKGROUND_NAMES = Object.keys(BACKGROUNDS) as Background[];

/** Object sizes: the side of the object's box as a fraction of the image side. */
export const SIZES = { small: 0.26, large: 0.4 } as const;
export type Size = keyof typeof SIZES;
export const SIZE_NAMES = Object.keys(SIZES) as Size[];

/** Where a lone object sits: the centre of its box as fractions of the image side (x right, y down). */
export const POSITIONS = {
  "on the left": [0.27, 0.5],
  "on the right": [0.73, 0.5],
  "at the top": [0.5, 0.27],
  "at the bottom": [0.5, 0.73],
  "in the center": [0.5, 0.5],
} as const satisfies Record<string, readonly [number, number]>;
export type Position = keyof typeof POSITIONS;
export const POSITION_NAMES = Object.keys(POSITIONS) as Position[];

/**
 * How the first object of a pair sits relative to the second: the unit direction from the second
 * object's centre to the first's (x right, y down).
 */
export const RELATIONS = {
  "left of": [-1, 0],
  "right of": [1, 0],
  above: [0, -1],
  below: [0, 1],
} as const satisfies Record<string, readonly [number, number]>;
export type Relation = keyof typeof RELATIONS;
export const RELATION_NAMES = Object.keys(RELATIONS) as Relation[];

/** Distance between the two centres of a pair, as a fraction of the image side. */
export const PAIR_SEPARATION = 0.5;

/** How far the renderer moves a centre (uniform, per axis) and scales a size (uniform factor). */
export const JITTER = { position: 0.04, size: 0.1 } as const;
