// The blobs an image or index holds, walked from its descriptor: what
// `kiln images` counts as its size and what `image prune` keeps.
import type { Descriptor } from "../oci/descriptor.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import type { Store } from "../store/store.js";

/** Bytes of every blob an image (or index) holds, each counted once. */
export async function imageSize(store: Store, desc: Descriptor): Promise<number> {
  const seen = new Map<string, number>();
  await walkBlobs(store, desc, seen);
  return [...seen.values()].reduce((n, s) => n + s, 0);
}

/** Adds `d` and every blob under it to `seen` (digest -> size). */
export async function walkBlobs(store: Store, d: Descriptor, seen: Map<string, number>): Promise<void> {
  if (seen.has(d.digest)) return;
  seen.set(d.digest, d.size);
  if (!(await store.hasBlob(d.digest))) return;
  if (isIndexMediaType(d.mediaType)) {
    for (const m of (await store.readJson<ImageIndex>(d.digest)).manifests) await walkBlobs(store, m, seen);
    return;
  }
  const m = await store.readJson<ImageManifest>(d.digest).catch(() => undefined);
  if (!m?.config) return;
  for (const b of [m.config, ...m.layers]) seen.set(b.digest, b.size);
}
