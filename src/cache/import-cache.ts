// --cache-from: the step records of an exported cache (a local OCI layout,
// or a registry ref) into this store, and its layers offered to this build,
// to be fetched only when a cache hit needs one (lazy-layers.ts). Records
// are only added, never overwritten; every blob is verified against its
// digest on the way in. Cache-mount contents are restored now (a RUN needs
// them whole, and they are restored only where this store has none).
import type { ClientOptions } from "../registry/client.js";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Descriptor } from "../oci/descriptor.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { parseJsonDocument, validateIndex } from "../oci/validate.js";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { CacheAnnotation, CacheMediaType, type CacheConfig, type CacheTarget } from "./cache-layout.js";
import type { BlobSource, LazyLayers } from "./lazy-layers.js";
import { isStepRecord, type StepRecords } from "./records.js";

export interface ImportedCache {
  readonly records: number;
  /** Layers offered to the build (fetched on use, not now). */
  readonly layers: number;
  readonly mounts: number;
}

export async function importCache(store: Store, records: StepRecords, from: CacheTarget, lazy: LazyLayers, client: ClientOptions = {}): Promise<ImportedCache> {
  const { manifestDesc, source } = from.kind === "local" ? await openLocalCache(store, from.dir) : await (await import("./registry-cache.js")).openRegistryCache(store, from.ref, client);
  const manifest = await store.readManifest(manifestDesc.digest);
  if (manifest.artifactType !== CacheMediaType.artifact) {
    throw new KilnError("CACHE_NOT_FOUND", `${source.name} is not a kiln build cache (artifactType ${manifest.artifactType ?? "none"})`);
  }
  await source.fetch(manifest.config);
  const config = await store.readJson<Partial<CacheConfig> | null>(manifest.config.digest);
  const bad = Array.isArray(config?.records) ? config.records.findIndex((r) => !isStepRecord(r)) : -2;
  if (bad !== -1) {
    throw new KilnError("CACHE_INVALID", `${source.name}: the cache config ${manifest.config.digest} is not valid: ${bad === -2 ? "records: expected an array" : `records[${bad}] is not a step record`}`, {
      hint: "export the cache again with --cache-to",
    });
  }
  let added = 0;
  for (const r of config!.records!) if (await records.adopt(r)) added++;
  let layers = 0;
  let mounts = 0;
  for (const l of manifest.layers) {
    const diffId = l.annotations?.[CacheAnnotation.diffId] as Digest | undefined;
    const mount = l.annotations?.[CacheAnnotation.mount];
    if (diffId) {
      lazy.offer(diffId, source, { mediaType: l.mediaType, digest: l.digest, size: l.size });
      layers++;
    } else if (mount && /^[0-9a-f]{32}$/.test(mount)) {
      if (await restoreMount(store, source, l, mount)) mounts++;
    }
  }
  return { records: added, layers, mounts };
}

async function openLocalCache(store: Store, dir: string): Promise<{ manifestDesc: Descriptor; source: BlobSource }> {
  let text: string;
  try {
    text = await readFile(path.join(dir, "index.json"), "utf8");
  } catch {
    throw new KilnError("CACHE_NOT_FOUND", `no exported cache in ${dir} (index.json missing)`, { hint: "write one with --cache-to type=local,dest=DIR" });
  }
  const where = path.join(dir, "index.json");
  const index = validateIndex(parseJsonDocument(text, where), where);
  if (index.manifests.length === 0) throw new KilnError("CACHE_NOT_FOUND", `no exported cache in ${dir} (index.json lists nothing)`, { hint: "write one with --cache-to type=local,dest=DIR" });
  const source: BlobSource = {
    name: dir,
    fetch: async (d) => {
      if (await store.hasBlob(d.digest)) return;
      await store.ingestBlob(createReadStream(path.join(dir, "blobs", "sha256", digestHex(d.digest))), { digest: d.digest, size: d.size });
    },
  };
  const manifestDesc = index.manifests[0]!;
  await source.fetch(manifestDesc);
  return { manifestDesc, source };
}

async function restoreMount(store: Store, source: BlobSource, blob: Descriptor, mount: string): Promise<boolean> {
  const dest = path.join(store.paths.cache, "mounts", mount);
  if (await stat(dest).then(() => true, () => false)) return false;
  await source.fetch(blob);
  const tmp = path.join(store.paths.tmp, `mount-${process.pid}-${mount}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await extractLayer(await decompressedStream(store.openBlob(blob.digest)), tmp, blob.digest);
  await mkdir(path.dirname(dest), { recursive: true });
  await rename(tmp, dest);
  return true;
}
