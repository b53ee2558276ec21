import { Device } from "../device/device.ts";
import { tensor } from "../ops/creation/creation.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import type { Tensor } from "../tensor/tensor.ts";

export async function toHost(t: Tensor): Promise<HostTensor> {
  const values = await t.toArray();
  return { shape: [...t.shape], dtype: t.dtype, data: Float64Array.from(values) };
}

/** Uploads a host tensor (values rounded to its dtype). */
export function fromHost(host: HostTensor, device: Device = Device.default): Tensor {
  return tensor(host.data, host.shape, { dtype: host.dtype, device });
}
