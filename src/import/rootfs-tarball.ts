// `kiln import`: a root filesystem tarball (plain or compressed) becomes a
// one-layer image, the way base images enter the store without a registry.
// The tar is unpacked into a snapshot first and the layer made from that
// snapshot, so the layer is normalised (sorted, no duplicate entries) and the
// snapshot is exactly what the layer says. Importing another platform under
// a name that has one makes the name an OCI image index of both.
import { createReadStream } from "node:fs";
import { addAbortSignal } from "node:stream";
import path from "node:path";
import { ensureLayerBlob } from "../snapshot/layer-blobs.js";
import { tagMerged } from "../store/image-index.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { clampMtimes } from "../fsutil/clamp-mtimes.js";
import { layerTarDigest } from "../snapshot/digest-stream.js";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { Platform } from "../oci/platform.js";
import { normalizeReference } from "../oci/reference.js";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";

export interface ImportOptions {
  readonly store: Store;
  readonly file: string;
  readonly name: string;
  readonly platform: Platform;
  /**
   * SOURCE_DATE_EPOCH, seconds: the image's `created`, and no file in the
   * layer is newer (default: created now, file times as the tarball has them).
   */
  readonly created?: number;
  /** Abort: the import stops, removes what it made, and names nothing. */
  readonly signal?: AbortSignal;
}

export async function importRootfs(opts: ImportOptions): Promise<Descriptor> {
  // A concurrent prune must not take the layer, config or manifest before
  // the name points at them: a lease covers what the import makes and the
  // chain it may find already there; the GC lock covers manifest-to-tag.
  const lease = await Lease.open(opts.store.paths);
  try {
    return await importUnderLease(opts, lease);
  } finally {
    await lease.release();
  }
}

async function importUnderLease(opts: ImportOptions, lease: Lease): Promise<Descriptor> {
  const ref = normalizeReference(opts.name);
  const snapshots = new SnapshotIndex(opts.store.paths.snapshots);
  const prepared = await snapshots.prepare();
  let layer: Descriptor;
  let diffId: Digest;
  const signal = opts.signal;
  try {
    const input = createReadStream(opts.file);
    if (signal) addAbortSignal(signal, input);
    await new Promise<void>((resolve, reject) => {
      input.once("open", () => resolve());
      input.once("error", (e) => reject(new KilnError("IMPORT_FAILED", `cannot read ${opts.file}: ${e.message}`)));
    });
    await extractLayer(await decompressedStream(input), path.join(prepared, "fs"), opts.file);
    // Clamped like a build step's snapshot: the same root filesystem tarred
    // at another time on another machine imports as the same layer.
    signal?.throwIfAborted();
    if (opts.created !== undefined) await clampMtimes(path.join(prepared, "fs"), opts.created);
    ({ diffId } = await layerTarDigest(path.join(prepared, "fs"), signal ? { signal } : {}));
    await lease.add([diffId]);
    await snapshots.commit(prepared, { chainId: diffId, diffId, parent: null });
    layer = await ensureLayerBlob(opts.store, snapshots, { diffId, chainId: diffId }, signal ? { signal } : {});
  } catch (err) {
    await snapshots.discard(prepared);
    throw err;
  }
  const created = new Date((opts.created ?? Date.now() / 1000) * 1000).toISOString();
  const config: ImageConfig = {
    created,
    architecture: opts.platform.architecture,
    os: opts.platform.os,
    ...(opts.platform.variant ? { variant: opts.platform.variant } : {}),
    config: {},
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created, created_by: `kiln import ${path.basename(opts.file)}`, comment: "Imported from rootfs tarball" }],
  };
  signal?.throwIfAborted();
  let manifest = await opts.store.putImage(config, [layer]);
  // A second platform under the same name makes (or extends) an image index;
  // the same platform replaces its entry. Under the GC lock, so no prune
  // runs between the check that the manifest is there and the tag.
  return withStoreLock(
    opts.store.root,
    async () => {
      // Blobs the store already had are older than the lease: a prune may have taken them.
      if (!(await opts.store.hasBlob(manifest.digest))) manifest = await opts.store.putImage(config, [layer]);
      // The last point to stop: after this the name exists.
      signal?.throwIfAborted();
      await tagMerged(opts.store, ref, manifest);
      return manifest;
    },
    { name: GC_LOCK },
  );
}
