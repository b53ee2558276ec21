/**
 * Getting the page's WebGPU device, or a plain explanation of why there is none and what to do.
 *
 * @module
 */
import { Device } from "@spo/wgpu-tensor";

/** The device, or the reason there is none. */
export type DeviceOutcome = { device: Device; adapter: string } | { device: null; reason: string };

/** What to tell a user whose browser offers no WebGPU. */
export const NO_WEBGPU_ADVICE =
  "Open this page in a browser with WebGPU: Chrome or Edge 113 or later (on Linux start it with " +
  "--enable-unsafe-webgpu --enable-features=Vulkan), Safari 26 or later, or Firefox 141 or later on Windows. " +
  "The page must come from https:// or from http://127.0.0.1 / localhost, as `npm run examples:browser` serves it.";

/**
 * Makes the page's device (and sets it as the default one), or says why it cannot.
 *
 * @example
 * ```ts
 * const outcome = await acquireDevice();
 * if (outcome.device === null) showNotice(outcome.reason);
 * ```
 */
export async function acquireDevice(): Promise<DeviceOutcome> {
  if (!globalThis.isSecureContext) {
    return {
      device: null,
      reason: `This page was opened from ${location.origin}, which is not a secure context, so the browser hides WebGPU. ${NO_WEBGPU_ADVICE}`,
    };
  }
  if (!("gpu" in navigator) || !navigator.gpu) {
    return { device: null, reason: `This browser does not offer WebGPU (navigator.gpu is missing). ${NO_WEBGPU_ADVICE}` };
  }
  try {
    const device = await Device.create();
    Device.setDefault(device);
    const { vendor, architecture, description } = device.adapter;
    return { device, adapter: [description, vendor, architecture].filter(Boolean).join(" · ") || "WebGPU adapter" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      device: null,
      reason: `WebGPU is present but gave no usable device (${message}). Enable hardware acceleration in the browser's settings, update the GPU driver, or: ${NO_WEBGPU_ADVICE}`,
    };
  }
}
