// Every layer of a base image extracted once, by chainID, into overlay form.
// The diffID is checked while extracting: a blob whose content does not
// match the config's diff_ids never becomes a snapshot.
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import type { Store } from "../store/store.js";
import { chainIds, type SnapshotIndex } from "../store/snapshot-index.js";
import { KilnError } from "../util/errors.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import { knownBlob, recordLayerBlob } from "./layer-blobs.js";
import { unpackLayer } from "./unpack-layer.js";

/**
 * With `offerRemote` (a base whose layers were left in its registry), a
 * layer the store lacks is offered from there instead of unpacked: it comes
 * over when a step needs the filesystem (cache/on-demand-layers.ts), and so
 * does every layer above it.
 */
export async function ensureBaseSnapshots(
  store: Store,
  snapshots: SnapshotIndex,
  manifest: ImageManifest,
  config: ImageConfig,
  offerRemote?: (diffId: Digest, blob: Descriptor) => void,
): Promise<LayerRecord[]> {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new KilnError("BAD_IMAGE", `image has ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`);
  }
  const chains = chainIds(diffIds);
  const out: LayerRecord[] = [];
  let deferred = false;
  for (let i = 0; i < diffIds.length; i++) {
    const diffId = diffIds[i]!;
    const chainId = chains[i]!;
    const blob = manifest.layers[i]!;
    if (offerRemote && (deferred || !(await snapshots.get(chainId))) && (deferred || !(await store.hasBlob(blob.digest)))) {
      deferred = true;
      offerRemote(diffId, blob);
      out.push({ diffId, chainId });
      continue;
    }
    if (!(await snapshots.get(chainId))) {
      const got = await unpackLayer(store, snapshots, blob.digest, i === 0 ? null : chains[i - 1]!, diffId);
      if (got !== diffId) {
        throw new KilnError("DIGEST_MISMATCH", `layer ${blob.digest} unpacks to ${got}, but the image config says ${diffId}`);
      }
    }
    // Written once: a rebuild on the same base finds it and writes nothing.
    if ((await knownBlob(store, diffId))?.digest !== blob.digest) await recordLayerBlob(store, diffId, blob);
    out.push({ diffId, chainId });
  }
  return out;
}
