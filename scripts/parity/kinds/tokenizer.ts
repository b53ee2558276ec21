import { type TokenizerParityCase, tokenizerParityCase, type TokenizerParityManifest } from "../cases/tokenizer_case.ts";
import { loadTokenizerForManifest } from "../cases/tokenizer_case_node.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/**
 * `tokenizer` cases (self-contained JSON): every case's `prompt` through the CLIP tokenizer the
 * manifest names (`config.vocab_file` / `merges_file`, found upwards from the manifest's folder,
 * else the vocabulary shipped in @spo/clip), each output compared case by case with the manifest's.
 */
export const tokenizerKind: KindRunner = {
  kind: "tokenizer",
  async run(context) {
    const cases = context.manifest.cases;
    if (!Array.isArray(cases)) throw new UnsupportedCaseError(`${context.manifest.name}: the manifest has no cases list`);
    const manifest = context.manifest as unknown as TokenizerParityManifest;
    const tokenizer = await loadTokenizerForManifest(manifest, { folder: context.folder });
    const results = tokenizerParityCase(manifest, tokenizer);
    const outputs = new Map<string, ProducedOutput>();
    for (const output of context.manifest.outputs) {
      const got = results.map((result) => (result as unknown as Record<string, unknown>)[output]);
      const want = (cases as TokenizerParityCase[]).map((item) => item[output]);
      outputs.set(output, { type: "json", got, want });
    }
    return outputs;
  },
};
