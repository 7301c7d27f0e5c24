// Every layer of a base image extracted once, by chainID, into overlay form.
// The diffID is checked while extracting: a blob whose content does not
// match the config's diff_ids never becomes a snapshot.
import { DigestStream } from "../layer/digest-stream.js";
import path from "node:path";
import type { ImageConfig } from "../oci/config.js";
import type { ImageManifest } from "../oci/manifest.js";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import type { Store } from "../store/store.js";
import { chainIds, type SnapshotIndex } from "../store/snapshot-index.js";
import { KilnError } from "../util/errors.js";
import type { LayerRecord } from "./image-state.js";
import { recordLayerBlob } from "./layer-blobs.js";

export async function ensureBaseSnapshots(
  store: Store,
  snapshots: SnapshotIndex,
  manifest: ImageManifest,
  config: ImageConfig,
): Promise<LayerRecord[]> {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new KilnError("BAD_IMAGE", `image has ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`);
  }
  const chains = chainIds(diffIds);
  const out: LayerRecord[] = [];
  for (let i = 0; i < diffIds.length; i++) {
    const diffId = diffIds[i]!;
    const chainId = chains[i]!;
    const blob = manifest.layers[i]!;
    if (!(await snapshots.get(chainId))) {
      const prepared = await snapshots.prepare();
      try {
        // One consumer only: the extractor reads through a transform that hashes.
        const hashing = new DigestStream();
        const tar = await decompressedStream(store.openBlob(blob.digest));
        await extractLayer(tar.pipe(hashing), path.join(prepared, "fs"));
        const got = hashing.digest;
        if (got !== diffId) {
          throw new KilnError("DIGEST_MISMATCH", `layer ${blob.digest} unpacks to ${got}, but the image config says ${diffId}`);
        }
        await snapshots.commit(prepared, { chainId, diffId, parent: i === 0 ? null : chains[i - 1]! });
      } catch (err) {
        await snapshots.discard(prepared);
        throw err;
      }
    }
    await recordLayerBlob(store, diffId, blob);
    out.push({ diffId, chainId });
  }
  return out;
}
