// Garbage collection: snapshots and blobs that nothing reaches are removed.
// Roots: every ref in index.json (manifests, configs, layers, their
// snapshot chains), every build-cache record (its layer's chain and that
// layer's compressed blob), and every live build lease. Runs under the GC
// lock, which builds also take to claim what they reuse.
import { readFile, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import { digestFromHex, isDigest, type Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { liveLeases } from "./leases.js";
import { readIndex } from "./refs.js";
import { chainIdOf, chainIds, type SnapshotIndex } from "./snapshot-index.js";
import type { Store } from "./store.js";

export interface GcResult {
  readonly snapshots: number;
  readonly blobs: number;
  readonly bytes: number;
}

/**
 * The step cache as gc sees it (cache/records.ts StepRecords is one): each
 * record's layer, the diffID made on top of its parent chain, stays alive.
 * Declared here so the store does not depend on the cache above it.
 */
export interface CacheRoots {
  list(): Promise<readonly { readonly record: { readonly diffId: Digest | null; readonly inputs: { readonly chainId: string } } }[]>;
}

export async function collectGarbage(store: Store, snapshots: SnapshotIndex, records: CacheRoots): Promise<GcResult> {
  const keepBlobs = new Set<string>();
  const keepChains = new Set<string>();
  const keepDiffIds = new Set<string>();

  const visit = async (d: Descriptor): Promise<void> => {
    if (keepBlobs.has(d.digest)) return;
    keepBlobs.add(d.digest);
    if (!(await store.hasBlob(d.digest))) return;
    if (isIndexMediaType(d.mediaType)) {
      for (const m of (await store.readJson<ImageIndex>(d.digest)).manifests) await visit(m);
      return;
    }
    const manifest = await store.readJson<ImageManifest>(d.digest);
    keepBlobs.add(manifest.config.digest);
    for (const l of manifest.layers) keepBlobs.add(l.digest);
    if (manifest.subject) keepBlobs.add(manifest.subject.digest);
    const config = await store.readJson<ImageConfig>(manifest.config.digest).catch(() => undefined);
    for (const c of chainIds(config?.rootfs?.diff_ids ?? [])) keepChains.add(c);
  };
  for (const m of (await readIndex(store.paths)).manifests) await visit(m);

  for (const { record } of await records.list()) {
    if (record.diffId) {
      keepChains.add(chainIdOf((record.inputs.chainId || null) as Digest | null, record.diffId));
      keepDiffIds.add(record.diffId);
    }
  }
  const leases = await liveLeases(store.paths);
  for (const l of leases) for (const c of l.chains) keepChains.add(c);
  const cutoff = Math.min(Infinity, ...leases.map((l) => l.startedMs));

  // A kept chain keeps its ancestors.
  const keepIds = new Set<string>();
  for (const c of keepChains) {
    let cur: Digest | null = c as Digest;
    while (cur && !keepIds.has(snapshots.idOf(cur))) {
      keepIds.add(snapshots.idOf(cur));
      const meta = await snapshots.get(cur);
      if (meta) keepDiffIds.add(meta.diffId);
      cur = meta?.parent ?? null;
    }
  }
  // Compressed blobs of kept layers stay, in every compression recorded
  // (<hex>.json, <hex>.zstd-3.json, ...): the next export reuses them.
  const recordsDir = path.join(store.paths.cache, "layer-blobs");
  for (const name of await readdir(recordsDir).catch(() => [] as string[])) {
    if (!keepDiffIds.has(digestFromHexSafe(name.split(".")[0]!))) continue;
    try {
      keepBlobs.add((JSON.parse(await readFile(path.join(recordsDir, name), "utf8")) as Descriptor).digest);
    } catch {
      // a record being written, or gone
    }
  }

  let removedSnapshots = 0;
  let removedBlobs = 0;
  let bytes = 0;
  for (const name of await readdir(snapshots.dir)) {
    if (name.startsWith(".") || keepIds.has(name)) continue;
    const p = path.join(snapshots.dir, name);
    if ((await stat(p)).mtimeMs >= cutoff) continue;
    await rm(p, { recursive: true, force: true });
    removedSnapshots++;
  }
  const blobDir = path.join(store.paths.blobs, "sha256");
  for (const name of await readdir(blobDir)) {
    const d = `sha256:${name}`;
    if (!isDigest(d) || keepBlobs.has(d)) continue;
    const p = path.join(blobDir, name);
    const st = await stat(p);
    if (st.mtimeMs >= cutoff) continue;
    await rm(p, { force: true });
    removedBlobs++;
    bytes += st.size;
  }
  for (const name of await readdir(path.join(store.paths.cache, "layer-blobs")).catch(() => [] as string[])) {
    const hex = name.split(".")[0]!;
    if (!keepDiffIds.has(digestFromHexSafe(hex))) await rm(path.join(store.paths.cache, "layer-blobs", name), { force: true });
  }
  return { snapshots: removedSnapshots, blobs: removedBlobs, bytes };
}

function digestFromHexSafe(hex: string): string {
  try {
    return digestFromHex(hex);
  } catch {
    return "";
  }
}
