// A layer blob unpacked on top of its parent chain into a new snapshot, its
// diffID computed on the way: committed only when it is the one expected.
// Used for base images (pulled, loaded) and for layers from --cache-from.
import path from "node:path";
import { DigestStream } from "./digest-stream.js";
import type { Digest } from "../oci/digest.js";
import { decompressedStream, extractLayer } from "./extract.js";
import { chainIdOf, type SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";

/** Returns the diffID the blob unpacked to; the snapshot exists only if it equals `diffId`. */
export async function unpackLayer(store: Store, snapshots: SnapshotIndex, blob: Digest, parent: Digest | null, diffId: Digest): Promise<Digest> {
  const prepared = await snapshots.prepare();
  try {
    // One consumer only: the extractor reads through a transform that hashes.
    const hashing = new DigestStream();
    await extractLayer((await decompressedStream(store.openBlob(blob))).pipe(hashing), path.join(prepared, "fs"), blob);
    if (hashing.digest !== diffId) {
      await snapshots.discard(prepared);
      return hashing.digest;
    }
    await snapshots.commit(prepared, { chainId: chainIdOf(parent, diffId), diffId, parent });
    return diffId;
  } catch (err) {
    await snapshots.discard(prepared);
    throw err;
  }
}
