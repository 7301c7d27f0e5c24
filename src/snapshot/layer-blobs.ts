// The compressed blob of each layer, made once, when an export first needs
// it, and remembered by diffID (cache/layer-blobs/<hex>.json) so the next
// export or push reuses it; and the uncompressed blob the local store lists.
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Descriptor } from "../oci/descriptor.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { compressLayer, GZIP_DEFAULT_LEVEL, ZSTD_DEFAULT_LEVEL, type LayerCompression } from "./compress.js";
import { MediaType } from "../oci/media-types.js";
import { remoteOrigin } from "../store/remote-blobs.js";
import type { Store } from "../store/store.js";
import { writeFileDurable } from "../store/durable-file.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import { KilnError } from "../util/errors.js";
import type { LayerRecord } from "../store/snapshot-index.js";

/**
 * cache/layer-blobs/<hex>.json: the layer's gzip blob (made here, or pulled);
 * <hex>.<variant>.json: another compression an output asked for
 * (zstd-3, gzip-9), kept beside it so a push after a zstd export reuses both.
 */
function recordPath(store: Store, diffId: Digest, variant?: string): string {
  return path.join(store.paths.cache, "layer-blobs", `${digestHex(diffId)}${variant ? `.${variant}` : ""}.json`);
}

/** The record name of a compression: undefined for the default (gzip level 6). */
export function compressionVariant(c: LayerCompression | undefined): string | undefined {
  if (!c || (c.kind === "gzip" && (c.level ?? GZIP_DEFAULT_LEVEL) === GZIP_DEFAULT_LEVEL && (c.impl ?? "zlib") === "zlib")) return undefined;
  if (c.kind === "none") return "tar";
  return `${c.kind === "gzip" && c.impl && c.impl !== "zlib" ? c.impl : c.kind}-${c.level ?? (c.kind === "gzip" ? GZIP_DEFAULT_LEVEL : ZSTD_DEFAULT_LEVEL)}`;
}

export async function recordLayerBlob(store: Store, diffId: Digest, blob: Descriptor, variant?: string): Promise<void> {
  const p = recordPath(store, diffId, variant);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFileDurable(p, JSON.stringify({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size }), store.paths.tmp);
}

/** The compressed blob recorded for a diffID, if the store has it. */
// Read for every layer of the image on every build that tags it (a no-op
// rebuild included): a ~150-byte file, read synchronously (one
// open/read/close, not four thread-pool round trips).
export async function knownBlob(store: Store, diffId: Digest, variant?: string): Promise<Descriptor | undefined> {
  try {
    const d = JSON.parse(readFileSync(recordPath(store, diffId, variant), "utf8")) as Descriptor;
    return (await store.hasBlob(d.digest)) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The blob recorded for a diffID that the store has, or that is still in the registry it came from (store/remote-blobs.ts). */
export async function recordedBlob(store: Store, diffId: Digest): Promise<Descriptor | undefined> {
  try {
    const d = JSON.parse(readFileSync(recordPath(store, diffId), "utf8")) as Descriptor;
    return (await store.hasBlob(d.digest)) || remoteOrigin(store.paths, d.digest) ? d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The layer's compressed blob (default gzip), made from its snapshot once
 * and recorded: what exports and pushes send. Another compression (zstd)
 * is made from the snapshot too; a layer without a snapshot here (a base
 * layer kept only as its pulled blob) stays as it was pulled, as buildx does
 * without force-compression.
 */
export async function ensureLayerBlob(
  store: Store,
  snapshots: SnapshotIndex,
  layer: LayerRecord,
  opts: { readonly signal?: AbortSignal; readonly compression?: LayerCompression } = {},
): Promise<Descriptor> {
  const variant = compressionVariant(opts.compression);
  const known = await knownBlob(store, layer.diffId, variant);
  if (known) return known;
  if (variant !== undefined && !(await snapshots.get(layer.chainId))) {
    const pulled = await knownBlob(store, layer.diffId);
    if (pulled) return pulled;
  }
  const desc = await writeLayerBlob(store, snapshots, layer, opts.compression ?? { kind: "gzip" }, opts.signal);
  await recordLayerBlob(store, layer.diffId, desc, variant);
  return desc;
}

/**
 * The blob the local store's manifest lists for a layer: a compressed one
 * already at hand (a pulled base layer, an earlier export's), else the
 * uncompressed layer tar (application/vnd.oci.image.layer.v1.tar, its digest
 * is the diffID), written in one pass and never compressed: a build into
 * the store does no compression at all (DESIGN.md, Layers). The tar is not
 * recorded, so a later export or push still makes and records the gzip blob.
 */
export async function localLayerBlob(store: Store, snapshots: SnapshotIndex, layer: LayerRecord): Promise<Descriptor> {
  const known = await knownBlob(store, layer.diffId);
  if (known) return known;
  const size = await store.blobSize(layer.diffId);
  if (size !== undefined) return { mediaType: MediaType.ociLayer, digest: layer.diffId, size };
  return writeLayerBlob(store, snapshots, layer, { kind: "none" });
}

async function writeLayerBlob(store: Store, snapshots: SnapshotIndex, layer: LayerRecord, compression: LayerCompression, signal?: AbortSignal): Promise<Descriptor> {
  const c = await compressLayer(snapshots.fsPath(layer.chainId), path.join(store.paths.blobs, "sha256"), { compression, ...(signal ? { signal } : {}) });
  if (c.diffId !== layer.diffId) {
    // The snapshot changed since commit: never publish a layer that does not match the config.
    throw new KilnError("SNAPSHOT_CHANGED", `snapshot ${layer.chainId} no longer hashes to ${layer.diffId} (got ${c.diffId})`, {
      hint: "the store was modified outside kiln; remove the image and rebuild",
    });
  }
  return { mediaType: c.mediaType, digest: c.digest, size: c.size };
}
