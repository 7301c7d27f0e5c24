// A cache hit whose layer is not unpacked here yet (it came with
// --cache-from): the layer's blob is unpacked on top of its parent chain
// into a new snapshot, its diffID checked on the way.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DigestStream } from "../layer/digest-stream.js";
import type { Descriptor } from "../oci/descriptor.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import { chainIdOf, type SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";

export async function materializeLayer(store: Store, snapshots: SnapshotIndex, parent: Digest | null, diffId: Digest): Promise<boolean> {
  let blob: Descriptor;
  try {
    blob = JSON.parse(await readFile(path.join(store.paths.cache, "layer-blobs", `${digestHex(diffId)}.json`), "utf8")) as Descriptor;
  } catch {
    return false;
  }
  if (!(await store.hasBlob(blob.digest))) return false;
  if (parent !== null && !(await snapshots.get(parent))) return false;
  const prepared = await snapshots.prepare();
  try {
    const hashing = new DigestStream();
    await extractLayer((await decompressedStream(store.openBlob(blob.digest))).pipe(hashing), path.join(prepared, "fs"));
    if (hashing.digest !== diffId) {
      await snapshots.discard(prepared);
      return false;
    }
    await snapshots.commit(prepared, { chainId: chainIdOf(parent, diffId), diffId, parent });
    return true;
  } catch (err) {
    await snapshots.discard(prepared);
    throw err;
  }
}
