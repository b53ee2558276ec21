// Node-only entry point: everything of mod.ts plus what needs files on disk.
export * from "./mod.ts";
