/**
 * Awaits a WebGPU promise while holding the event loop open. dawn.node does not always keep Node
 * alive while it waits for the GPU, and a process that exits mid-wait crashes inside the driver's
 * threads; a timer is a cheap, portable way to stay alive (harmless in browsers).
 */
export async function whileAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
  }
}
