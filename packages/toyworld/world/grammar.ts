import type { Scene, SceneObject } from "./scene.ts";
import { BACKGROUND_NAMES, COLOUR_NAMES, POSITION_NAMES, RELATION_NAMES, SHAPES, SIZE_NAMES } from "./vocabulary.ts";

/**
 * The grammar, as text:
 *
 *   prompt     := object position background | object relation object background
 *   object     := "a" size colour shape
 *   position   := "on the left" | "on the right" | "at the top" | "at the bottom" | "in the center"
 *   relation   := "left of" | "right of" | "above" | "below"
 *   background := "on a" ("white" | "black" | "gray") "background"
 *
 * The two objects of a pair have different colours (so each colour names one object).
 *
 * @example
 * ```ts
 * formatPrompt({ kind: "pair", first: { size: "small", colour: "red", shape: "circle" }, relation: "left of",
 *   second: { size: "large", colour: "blue", shape: "square" }, background: "white" });
 * // "a small red circle left of a large blue square on a white background"
 * ```
 */
export function formatPrompt(scene: Scene): string {
  const background = `on a ${scene.background} background`;
  if (scene.kind === "single") return `${formatObject(scene.object)} ${scene.position} ${background}`;
  return `${formatObject(scene.first)} ${scene.relation} ${formatObject(scene.second)} ${background}`;
}

function formatObject(object: SceneObject): string {
  return `a ${object.size} ${object.colour} ${object.shape}`;
}

/** Every object the grammar can name (2 sizes × 6 colours × 3 shapes = 36). */
export function allObjects(): SceneObject[] {
  const objects: SceneObject[] = [];
  for (const size of SIZE_NAMES) for (const colour of COLOUR_NAMES) for (const shape of SHAPES) objects.push({ size, colour, shape });
  return objects;
}

/** Every scene of the grammar, singles first: 540 singles and 12,960 pairs. */
export function allScenes(): Scene[] {
  const scenes: Scene[] = [];
  const objects = allObjects();
  for (const background of BACKGROUND_NAMES) {
    for (const object of objects) for (const position of POSITION_NAMES) scenes.push({ kind: "single", object, position, background });
  }
  for (const background of BACKGROUND_NAMES) {
    for (const first of objects) {
      for (const relation of RELATION_NAMES) {
        for (const second of objects)
          if (second.colour !== first.colour) scenes.push({ kind: "pair", first, relation, second, background });
      }
    }
  }
  return scenes;
}
