import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// The universal entry, the Node-only one and the `spo` command (bin), built like every package (scripts/tsup_package.ts).
export default defineConfig(packageConfig({ mod: "mod.ts", mod_node: "mod_node.ts", "cli/spo_node": "cli/spo_node.ts" }));
