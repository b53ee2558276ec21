import { type PromptParserParityManifest, promptParserParityCase } from "../cases/prompt_parser_case.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

/**
 * `prompt_parser` cases (self-contained JSON): every case's `prompt` through the A1111 prompt
 * syntax parsers of @spo/pipeline, each output (`parse_prompt_attention`, `extra_networks`,
 * `loras`, ...) compared case by case, weights with the manifest's tolerance.
 */
export const promptParserKind: KindRunner = {
  kind: "prompt_parser",
  async run(context) {
    const cases = context.manifest.cases;
    if (!Array.isArray(cases)) throw new UnsupportedCaseError(`${context.manifest.name}: the manifest has no cases list`);
    const results = promptParserParityCase(context.manifest as unknown as PromptParserParityManifest);
    const outputs = new Map<string, ProducedOutput>();
    for (const output of context.manifest.outputs) {
      const got = results.map((result) => (result as unknown as Record<string, unknown>)[output]);
      const want = (cases as Record<string, unknown>[]).map((item) => item[output]);
      outputs.set(output, { type: "json", got, want });
    }
    return outputs;
  },
};
