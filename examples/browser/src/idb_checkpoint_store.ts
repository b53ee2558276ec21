/**
 * A `CheckpointStore` (@spo/trainer) in the browser's IndexedDB: each save replaces the latest
 * checkpoint in one transaction, so a reload (or a closed tab) finds the last complete one.
 *
 * @module
 */
import type { CheckpointFiles, CheckpointStore } from "@spo/trainer";

const STORE = "checkpoints";
const LATEST = "latest";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDatabase(name: string): Promise<IDBDatabase> {
  const req = indexedDB.open(name, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req);
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** What is stored under the latest key. */
interface StoredCheckpoint {
  name: string;
  files: [string, Uint8Array][];
  savedAt: number;
}

/** The store, plus a way to forget the run. */
export interface BrowserCheckpointStore extends CheckpointStore {
  /** Deletes the stored checkpoint (a new run starts from scratch). */
  clear(): Promise<void>;
}

/**
 * A checkpoint store in the IndexedDB database `databaseName`.
 *
 * @example
 * ```ts
 * const store = indexedDbCheckpointStore("spo-toy-run");
 * const trainer = await SpoTrainer.create(models, config, { prompts, store, resume: true });
 * ```
 */
export function indexedDbCheckpointStore(databaseName: string): BrowserCheckpointStore {
  const database = openDatabase(databaseName);
  return {
    async save(name: string, files: CheckpointFiles): Promise<string> {
      const db = await database;
      const transaction = db.transaction(STORE, "readwrite");
      const value: StoredCheckpoint = { name, files: [...files].map(([key, bytes]) => [key, bytes.slice()]), savedAt: Date.now() };
      transaction.objectStore(STORE).put(value, LATEST);
      await done(transaction);
      return `indexeddb:${databaseName}/${name}`;
    },
    async latest() {
      const db = await database;
      const value = (await request(db.transaction(STORE, "readonly").objectStore(STORE).get(LATEST))) as StoredCheckpoint | undefined;
      return value ? { name: value.name, files: new Map(value.files) } : null;
    },
    async clear() {
      const db = await database;
      const transaction = db.transaction(STORE, "readwrite");
      transaction.objectStore(STORE).delete(LATEST);
      await done(transaction);
    },
  };
}
