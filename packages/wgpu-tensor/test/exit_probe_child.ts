// Child process for device/device_test.ts: computes, destroys the device, and must then exit on its own.
import { tensor } from "../ops/creation/creation.ts";
import { add } from "../ops/elementwise/elementwise_ops.ts";
import { Device } from "../device/device.ts";

const device = await Device.create();
const sum = add(tensor([1, 2]), tensor([1, 2]));
const values = await sum.toArray();
console.log(`result ${values[0] + values[1]}`);
device.destroy();
