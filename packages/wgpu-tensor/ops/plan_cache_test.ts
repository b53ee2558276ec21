import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { KernelPlan } from "./op_def.ts";
import { PlanCache } from "./plan_cache.ts";

function fakePlan(key: string): KernelPlan {
  return { key, wgsl: () => "", params: new ArrayBuffer(16), workgroups: [1, 1, 1] };
}

describe("PlanCache", () => {
  test("get() builds a plan once per signature and returns the same object after", () => {
    const plans = new PlanCache<KernelPlan>();
    let builds = 0;
    const build = () => {
      builds++;
      return fakePlan("a");
    };
    const first = plans.get("1024|f32", build);
    const second = plans.get("1024|f32", build);
    assert.equal(first, second);
    assert.equal(builds, 1);
    assert.notEqual(plans.get("1025|f32", build), first);
    assert.equal(builds, 2);
  });

  test("get() drops the oldest plan when full", () => {
    const plans = new PlanCache<KernelPlan>(2);
    const a = plans.get("a", () => fakePlan("a"));
    plans.get("b", () => fakePlan("b"));
    plans.get("c", () => fakePlan("c"));
    assert.equal(plans.size, 2);
    assert.notEqual(
      plans.get("a", () => fakePlan("a again")),
      a,
    );
    assert.equal(plans.get("c", () => fakePlan("c again")).key, "c");
  });
});
