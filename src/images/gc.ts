// Garbage collection of the store: blobs, snapshots and cache records no
// name and no lease reaches go (store/gc.ts), under the GC lock so that a
// running build's claims are respected.
import { StepRecords } from "../cache/records.js";
import { collectGarbage, type GcResult } from "../store/gc.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";

export type { GcResult } from "../store/gc.js";

export function gc(store: Store): Promise<GcResult> {
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const records = new StepRecords(store.paths.cache, store.paths.tmp);
  return withStoreLock(store.root, () => collectGarbage(store, snapshots, records), { name: GC_LOCK });
}
