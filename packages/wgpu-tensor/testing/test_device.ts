import { Device } from "../device/device.ts";

let shared: Promise<Device> | null = null;

/** One device per test process, created on first use and made the default. */
export function testDevice(): Promise<Device> {
  shared ??= Device.create().then((device) => {
    Device.setDefault(device);
    return device;
  });
  return shared;
}
