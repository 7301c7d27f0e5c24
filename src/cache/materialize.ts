// A cache hit whose layer is not unpacked here yet (it came with
// --cache-from): the layer's recorded blob is unpacked on top of its parent
// chain into a new snapshot, its diffID checked on the way.
import { knownBlob } from "../build/layer-blobs.js";
import { unpackLayer } from "../build/unpack-layer.js";
import type { Digest } from "../oci/digest.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";

export async function materializeLayer(store: Store, snapshots: SnapshotIndex, parent: Digest | null, diffId: Digest): Promise<boolean> {
  const blob = await knownBlob(store, diffId);
  if (!blob) return false;
  if (parent !== null && !(await snapshots.get(parent))) return false;
  return (await unpackLayer(store, snapshots, blob.digest, parent, diffId)) === diffId;
}
