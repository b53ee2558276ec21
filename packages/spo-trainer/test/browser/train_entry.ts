/**
 * Browser entry of the Node-vs-Chromium trainer test: the tiny SPO run on the page's own WebGPU
 * device. Imports only browser-safe modules.
 * @module
 */
import { Device } from "@spo/wgpu-tensor";
import { tinySpoRun, type TinyRunResult } from "../_tiny_run.ts";

export async function trainInPage(): Promise<TinyRunResult & { adapter: string }> {
  const device = await Device.create();
  Device.setDefault(device);
  try {
    const result = await tinySpoRun();
    return { ...result, adapter: [device.adapter.vendor, device.adapter.description].filter(Boolean).join(" / ") };
  } finally {
    device.destroy();
  }
}
