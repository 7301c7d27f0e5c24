// A cache hit whose layer is not unpacked here yet (it came with
// --cache-from): the layer's blob, in the store or fetched now from the
// cache that offered it, is unpacked on top of its parent chain into a new
// snapshot, its diffID checked on the way.
import { knownBlob, recordLayerBlob } from "../snapshot/layer-blobs.js";
import { unpackLayer } from "../snapshot/unpack-layer.js";
import type { Digest } from "../oci/digest.js";
import { chainIdOf, type SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import type { LazyLayers } from "./lazy-layers.js";

/**
 * Called before the GC lock: a download can take long, and the lock must
 * not be held that long. GC keeps the fetched blob anyway (it is newer than
 * the build's lease); materializeLayer fetches again should it be gone.
 */
export async function prefetchLayer(store: Store, snapshots: SnapshotIndex, parent: Digest | null, diffId: Digest, lazy: LazyLayers): Promise<void> {
  if (!lazy.has(diffId) || (await snapshots.get(chainIdOf(parent, diffId)))) return;
  if (parent !== null && !(await snapshots.get(parent))) return;
  if (await knownBlob(store, diffId)) return;
  await lazy.blob(diffId);
}

export async function materializeLayer(store: Store, snapshots: SnapshotIndex, parent: Digest | null, diffId: Digest, lazy?: LazyLayers): Promise<boolean> {
  if (parent !== null && !(await snapshots.get(parent))) return false;
  const known = await knownBlob(store, diffId);
  const blob = known ?? (await lazy?.blob(diffId));
  if (!blob) return false;
  const got = await unpackLayer(store, snapshots, blob.digest, parent, diffId);
  if (got !== diffId) {
    if (!known) lazy?.reject(diffId, blob, got);
    return false;
  }
  // Only now that it unpacked to that diffID: exports and pushes of this
  // layer reuse the blob instead of compressing the snapshot again.
  if (!known) await recordLayerBlob(store, diffId, blob);
  return true;
}
