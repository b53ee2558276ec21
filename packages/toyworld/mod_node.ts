// Node-only entry point: everything of mod.ts plus what needs files on disk (the shipped model).
export * from "./mod.ts";
export { loadToyModel, TOY_BASE_MODEL_URL } from "./model/load_toy_model_node.ts";
export { hostStateDict, saveToyModelFolder, type WeightDtype } from "./model/save_model_node.ts";
export { type LoadToySpmOptions, loadToySpm, loadToySpmModel, TOY_SPM_URL } from "./spm/load_toy_spm_node.ts";
export { saveToySpmFolder } from "./spm/save_toy_spm_node.ts";
