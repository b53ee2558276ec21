import assert from "node:assert/strict";
import { test } from "node:test";
import { resizeGeometry } from "./preprocess.ts";

test("resizeGeometry: the short side becomes the size (int(side·scale + 0.5)), torchvision's centre crop rounds half to even", () => {
  // SD1.5's 512² decode to ViT-H/14's 224: no crop
  assert.deepEqual(resizeGeometry(512, 512, 224), { height: 224, width: 224, top: 0, left: 0 });
  // landscape 512×768 → 224×336, crop 56 from the left
  assert.deepEqual(resizeGeometry(512, 768, 224), { height: 224, width: 336, top: 0, left: 56 });
  // the oracle case: 40×56 at 32 → 32×int(45.3) = 45; (45 − 32)/2 = 6.5 rounds to 6 (half to even)
  assert.deepEqual(resizeGeometry(40, 56, 32), { height: 32, width: 45, top: 0, left: 6 });
  // (47 − 32)/2 = 7.5 rounds to 8
  assert.deepEqual(resizeGeometry(32, 47, 32), { height: 32, width: 47, top: 0, left: 8 });
  // portrait: 100×50 at 32 → 64×32, 16 rows cropped from the top
  assert.deepEqual(resizeGeometry(100, 50, 32), { height: 64, width: 32, top: 16, left: 0 });
});
