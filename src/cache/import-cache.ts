// --cache-from: records and layer blobs from an exported cache (a local OCI
// layout, or a registry ref) into this store. Records are only added, never
// overwritten; every blob is verified against its digest on the way in;
// cache-mount directories are restored only where this store has none.
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { recordLayerBlob } from "../build/layer-blobs.js";
import type { Descriptor } from "../oci/descriptor.js";
import { digestHex, type Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { CacheAnnotation, CacheMediaType, type CacheConfig, type CacheTarget } from "./cache-layout.js";
import type { StepRecords } from "./records.js";

export interface ImportedCache {
  readonly records: number;
  readonly layers: number;
  readonly mounts: number;
}

/** Fetches one blob of the cache into the store (verified), from wherever it lives. */
type BlobFetcher = (d: Descriptor) => Promise<void>;

export async function importCache(store: Store, records: StepRecords, from: CacheTarget): Promise<ImportedCache> {
  let manifestDesc: Descriptor;
  let fetch: BlobFetcher;
  if (from.kind === "local") {
    const dir = from.dir;
    let index: ImageIndex;
    try {
      index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as ImageIndex;
    } catch {
      throw new KilnError("CACHE_NOT_FOUND", `no exported cache in ${dir} (index.json missing)`, { hint: "write one with --cache-to type=local,dest=DIR" });
    }
    manifestDesc = index.manifests[0]!;
    fetch = async (d) => {
      if (await store.hasBlob(d.digest)) return;
      await store.ingestBlob(createReadStream(path.join(dir, "blobs", "sha256", digestHex(d.digest))), { digest: d.digest, size: d.size });
    };
    await fetch(manifestDesc);
  } else {
    const { fetchCacheManifest } = await import("./registry-cache.js");
    ({ manifestDesc, fetch } = await fetchCacheManifest(store, from.ref));
  }
  const manifest = await store.readJson<ImageManifest>(manifestDesc.digest);
  if (manifest.artifactType !== CacheMediaType.artifact) {
    throw new KilnError("CACHE_NOT_FOUND", `${from.kind === "local" ? from.dir : from.ref} is not a kiln build cache (artifactType ${manifest.artifactType ?? "none"})`);
  }
  await fetch(manifest.config);
  const config = await store.readJson<CacheConfig>(manifest.config.digest);
  let added = 0;
  for (const r of config.records) if (await records.adopt(r)) added++;
  let layers = 0;
  let mounts = 0;
  for (const l of manifest.layers) {
    const diffId = l.annotations?.[CacheAnnotation.diffId] as Digest | undefined;
    const mount = l.annotations?.[CacheAnnotation.mount];
    if (diffId) {
      await fetch(l);
      await recordLayerBlob(store, diffId, { mediaType: l.mediaType, digest: l.digest, size: l.size });
      layers++;
    } else if (mount && /^[0-9a-f]{32}$/.test(mount)) {
      const dest = path.join(store.paths.cache, "mounts", mount);
      if (await stat(dest).then(() => true, () => false)) continue;
      await fetch(l);
      const tmp = path.join(store.paths.tmp, `mount-${process.pid}-${mount}`);
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      await extractLayer(await decompressedStream(store.openBlob(l.digest)), tmp);
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(tmp, dest);
      mounts++;
    }
  }
  return { records: added, layers, mounts };
}
