import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// Every entry of package.json's "exports", built like every package (scripts/tsup_package.ts).
// dist/mod_node.js finds the vocabulary at ../assets/clip/, the same relative path as from
// tokenizer/clip_tokenizer_node.ts.
export default defineConfig(packageConfig());
