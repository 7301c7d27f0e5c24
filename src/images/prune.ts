// `docker image prune` for the store: dangling images (manifests no name
// reaches) always go; with `all`, every named image the filters select is
// untagged first. Garbage collection then deletes what nothing reaches.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { ImageConfig } from "../oci/config.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import type { Store } from "../store/store.js";
import { gc } from "./gc.js";
import { walkBlobs } from "./image-blobs.js";

/** Which named images `all` removes: created before a time; having a label (with a value). */
export type PruneFilter = { readonly kind: "until"; readonly before: number } | { readonly kind: "label"; readonly key: string; readonly value?: string };

export interface PruneImagesOptions {
  /** Named images too, not only dangling ones (docker image prune -a). */
  readonly all?: boolean;
  /** All must match for a named image to go; dangling images go whatever the filters. */
  readonly filters?: readonly PruneFilter[];
}

export interface PruneImagesResult {
  /** Names untagged (REPOSITORY:TAG), in the order of the store's list. */
  readonly untagged: readonly string[];
  /** Images (manifests) deleted. */
  readonly deleted: readonly Digest[];
  readonly reclaimedBytes: number;
}

export async function pruneImages(store: Store, opts: PruneImagesOptions = {}): Promise<PruneImagesResult> {
  const filters = opts.filters ?? [];
  const keep = (created: string | undefined, labels: Readonly<Record<string, string>>): boolean =>
    filters.some((f) => (f.kind === "until" ? !(Date.parse(created ?? "") < f.before) : !(f.key in labels) || (f.value !== undefined && labels[f.key] !== f.value)));
  const deleted = new Set<string>();
  const untagged: string[] = [];
  if (opts.all) {
    for (const ref of await store.listImages()) {
      const image = await store.resolveImage(ref.name).catch(() => undefined);
      if (keep(image?.config.created, image?.config.config?.Labels ?? {})) continue;
      await store.untag(ref.name);
      const r = parseReference(ref.name);
      untagged.push(`${familiarReference({ registry: r.registry, repository: r.repository })}:${r.tag ?? "<none>"}`);
      deleted.add(ref.descriptor.digest);
    }
  }
  // Untagged manifests are garbage in kiln (nothing keeps them), so every
  // dangling image goes, whatever the filters; they select named images (all).
  for (const d of await danglingManifests(store)) deleted.add(d);
  const r = await gc(store);
  const gone: Digest[] = [];
  for (const d of deleted) if (!(await store.hasBlob(d as Digest))) gone.push(d as Digest);
  return { untagged, deleted: gone, reclaimedBytes: r.bytes };
}

/** Manifests in the blob store that no name reaches: docker's dangling images. */
async function danglingManifests(store: Store): Promise<Digest[]> {
  const reachable = new Map<string, number>();
  for (const r of await store.listImages()) await walkBlobs(store, r.descriptor, reachable);
  const out: Digest[] = [];
  const dir = path.join(store.paths.blobs, "sha256");
  for (const hex of await readdir(dir)) {
    const d = `sha256:${hex}`;
    if (!isDigest(d) || reachable.has(d)) continue;
    const st = await stat(path.join(dir, hex)).catch(() => undefined);
    if (!st || st.size > 4 << 20) continue; // manifests are small; layers are not
    const head = await store.readBlob(d).catch(() => undefined);
    if (!head || head[0] !== 0x7b) continue; // not JSON: a layer
    const m = await store.readJson<ImageManifest>(d).catch(() => undefined);
    if (!m || typeof m !== "object" || !m.config?.digest || !Array.isArray(m.layers)) continue;
    const config = await store.readJson<ImageConfig>(m.config.digest).catch(() => undefined);
    if (!config?.rootfs) continue;
    out.push(d);
  }
  return out;
}
