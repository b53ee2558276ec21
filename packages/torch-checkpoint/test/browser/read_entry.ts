// Runs in Chromium (bundled by the browser test): opens checkpoints served under /files/ by URL
// (HTTP range requests) and as Blobs, and returns what it read.
import { openTorchCheckpointBlob, openTorchCheckpointUrl, TorchCheckpointError } from "../../mod.ts";

/** What the page read from one checkpoint, or the error it refused it with. */
export interface PageRead {
  names: string[];
  values: Record<string, unknown>;
  tensors: Record<string, Uint8Array>;
  error?: { code: string; globalName: string | undefined };
}

async function describe(open: () => ReturnType<typeof openTorchCheckpointUrl>): Promise<PageRead> {
  try {
    const checkpoint = await open();
    const tensors: Record<string, Uint8Array> = {};
    for (const name of checkpoint.names) tensors[name] = (await checkpoint.tensor(name)).data;
    const values = Object.fromEntries(checkpoint.values);
    await checkpoint.close();
    return { names: checkpoint.names, values, tensors };
  } catch (error) {
    if (!(error instanceof TorchCheckpointError)) throw error;
    return { names: [], values: {}, tensors: {}, error: { code: error.code, globalName: error.globalName } };
  }
}

/** Opens `/files/<name>` by URL with range requests. */
export function readByUrl(name: string): Promise<PageRead> {
  return describe(() => openTorchCheckpointUrl(new URL(`/files/${name}`, location.href)));
}

/** Fetches `/files/<name>` whole and opens it as a Blob. */
export async function readAsBlob(name: string): Promise<PageRead> {
  const blob = await (await fetch(`/files/${name}`)).blob();
  return describe(() => openTorchCheckpointBlob(blob));
}
