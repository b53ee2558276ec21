import type { Background, Colour, Position, Relation, Shape, Size } from "./vocabulary.ts";

/** One named object of a scene. */
export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
}

/**
 * What a prompt asks for: one object at a position, or two objects where the first stands in
 * `relation` to the second; always on a plain background.
 */
export type Scene =
  | { kind: "single"; object: SceneObject; position: Position; background: Background }
  | { kind: "pair"; first: SceneObject; relation: Relation; second: SceneObject; background: Background };

/** The scene's objects in prompt order. */
export function sceneObjects(scene: Scene): SceneObject[] {
  return scene.kind === "single" ? [scene.object] : [scene.first, scene.second];
}
