import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup_package.ts";

// Every entry of package.json's "exports", built like every package (scripts/tsup_package.ts).
export default defineConfig(packageConfig());
