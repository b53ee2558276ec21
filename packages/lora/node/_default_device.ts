import { Device } from "@spo/wgpu-tensor";

/** The default device, or null before any was created. */
export function existingDefaultDevice(): Device | null {
  try {
    return Device.default;
  } catch {
    return null;
  }
}
