// --cache-to: the records this build used or made, their layers
// (compressed once, shared with image exports) and optionally the cache
// mounts, written as an OCI layout to a directory or pushed to a registry.
import type { ClientOptions } from "../registry/client.js";
import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { writeDirectory, type TreeEntry } from "../export/file-tree.js";
import { blobEntryPath } from "../export/image-blobs.js";
import { imageIndex } from "../oci/manifest.js";
import { Annotation } from "../oci/descriptor.js";
import type { Descriptor } from "../oci/descriptor.js";
import { imageManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import { compressLayer } from "../snapshot/compress.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { ensureLayerBlob } from "../snapshot/layer-blobs.js";
import { chainIdOf } from "../store/snapshot-index.js";
import type { Digest } from "../oci/digest.js";
import { CacheAnnotation, CacheMediaType, type CacheConfig, type CacheExportOptions } from "./cache-layout.js";
import type { StepRecord, StepRecords } from "./records.js";

export interface ExportedCache {
  readonly manifest: Descriptor;
  readonly records: number;
  readonly mounts: number;
}

export async function exportCache(store: Store, snapshots: SnapshotIndex, records: StepRecords, keys: readonly Digest[], opts: CacheExportOptions, client: ClientOptions = {}): Promise<ExportedCache> {
  const chosen: StepRecord[] = [];
  for (const k of new Set(keys)) {
    const r = await records.get(k);
    if (r) chosen.push(r);
  }
  const layers: Descriptor[] = [];
  for (const r of chosen) {
    if (!r.diffId) continue;
    const chainId = chainIdOf((r.inputs.chainId || null) as Digest | null, r.diffId);
    if (!(await snapshots.get(chainId))) continue;
    const blob = await ensureLayerBlob(store, snapshots, { diffId: r.diffId, chainId });
    if (!layers.some((l) => l.digest === blob.digest)) layers.push({ ...blob, annotations: { [CacheAnnotation.diffId]: r.diffId } });
  }
  let mounts = 0;
  if (opts.mounts) {
    const dir = path.join(store.paths.cache, "mounts");
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!(await stat(path.join(dir, name))).isDirectory()) continue;
      const c = await compressLayer(path.join(dir, name), path.join(store.paths.blobs, "sha256"));
      layers.push({ mediaType: c.mediaType, digest: c.digest, size: c.size, annotations: { [CacheAnnotation.mount]: name } });
      mounts++;
    }
  }
  const config: CacheConfig = { version: 1, records: chosen };
  const configDesc = await store.writeJson(CacheMediaType.config, config);
  const manifest = { ...imageManifest(configDesc, layers), artifactType: CacheMediaType.artifact };
  const manifestDesc = await store.writeJson(MediaType.ociManifest, manifest);
  if (opts.to.kind === "local") {
    await mkdir(path.dirname(path.resolve(opts.to.dir)), { recursive: true });
    const entries: TreeEntry[] = [
      { path: "oci-layout", kind: "bytes", data: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
      { path: "index.json", kind: "bytes", data: JSON.stringify(imageIndex([{ ...manifestDesc, annotations: { [Annotation.refName]: "cache" } }])) },
      ...[manifestDesc, configDesc].map((d) => ({ path: blobEntryPath(d), kind: "file" as const, source: store.blobPath(d.digest) })),
      ...layers.map((d) => ({ path: blobEntryPath(d), kind: "file" as const, source: store.blobPath(d.digest) })),
    ];
    await writeDirectory(entries, opts.to.dir);
  } else {
    const { pushBlobsAndManifest } = await import("./registry-cache.js");
    await pushBlobsAndManifest(store, opts.to.ref, manifestDesc, [configDesc, ...layers], client);
  }
  return { manifest: manifestDesc, records: chosen.length, mounts };
}
