/**
 * Helpers for testing kernels and models against plain-JS references: a shared test device,
 * host/GPU conversion, tolerance rules, and fast-check generators for awkward shapes.
 * Published as `@spo/wgpu-tensor/testing` so model packages test the same way.
 * @module
 */
export { testDevice } from "./test_device.ts";
export { assertClose, type Tolerance, toleranceFor } from "./assert_close.ts";
export { fromHost, toHost } from "./host_transfer.ts";
export { arbBroadcastPair, arbShape, fcRuns, randomHost, seededValues } from "./arbitraries.ts";
export { checkAgainstReference, checkVariantAgainstReference } from "./check_reference.ts";
export { checkGradients, type GradCheckOptions } from "../autograd/grad_check.ts";
