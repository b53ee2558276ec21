// WGSL helper functions that elementwise expressions may call, included only when used.

export const WGSL_HELPERS: Record<string, string> = {
  // erf via Abramowitz & Stegun 7.1.26 refined: max abs error ~1.2e-7 with this 6-term form
  erf_: `fn erf_(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.5 * a);
  let y = 1.0 - t * exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(-y, y, x >= 0.0);
}`,
  // tanh saturates to ±1 well before |x| = 15; clamping avoids inf/inf in drivers that use exp
  tanh_: `fn tanh_(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }`,
  sigmoid_: `fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }`,
};

/** The helper definitions an expression refers to. */
export function helpersFor(expression: string): string {
  return Object.entries(WGSL_HELPERS)
    .filter(([name]) => expression.includes(`${name}(`))
    .map(([, source]) => source)
    .join("\n");
}
