import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// The universal entry and the Node-only one, built like every package (scripts/tsup_package.ts).
export default defineConfig(packageConfig({ mod: "mod.ts", mod_node: "mod_node.ts" }));
