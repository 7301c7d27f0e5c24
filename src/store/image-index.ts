// Multi-platform images: an OCI image index whose manifest descriptors each
// carry their platform. Helpers to make one from single-platform manifests,
// to merge a manifest into whatever a name already points at (import of a
// second platform, `kiln index create`), and to list every blob an index or
// manifest needs (for export).
import { Annotation, isAttestationEntry, type Descriptor } from "../oci/descriptor.js";
import type { ImageConfig } from "../oci/config.js";
import { type ImageIndex, type ImageManifest, imageIndex } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media-types.js";
import { formatPlatform, normalizePlatform, type Platform, platformMatches } from "../oci/platform.js";
import { withStoreLock } from "./lock.js";
import { normalizeTagName } from "./refs.js";
import type { Store } from "./store.js";
import { KilnError } from "../util/errors.js";

/** A manifest descriptor as an index entry: mediaType, digest, size, platform (and annotations given). */
export function indexEntry(d: Descriptor, platform: Platform | undefined, annotations?: Record<string, string>): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(platform ? { platform } : {}),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
}

/** The platform of a manifest: from its descriptor, else from its config. */
export async function manifestPlatform(store: Store, d: Descriptor): Promise<Platform> {
  if (d.platform) return normalizePlatform(d.platform);
  const m = await store.readJson<ImageManifest>(d.digest);
  const c = await store.readJson<ImageConfig>(m.config.digest);
  return normalizePlatform({ os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) });
}

// Also unknown/unknown entries without the annotation: other tools' indexes
// put non-image manifests there, and they are no platform's image.
function isAttestation(d: Descriptor): boolean {
  return isAttestationEntry(d) || d.platform?.os === "unknown";
}

/**
 * Merge `entries` (each a manifest descriptor with its platform) into `base`
 * (the entries of an existing index): an entry takes the place of the entry
 * for the same platform, new platforms come after, in the order given.
 * Attestation manifests stay (last) only while the image they refer to does.
 */
export function mergeIndexEntries(base: readonly Descriptor[], entries: readonly Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.platform) throw new Error("internal: index entry without a platform");
    const key = formatPlatform(normalizePlatform(e.platform));
    if (seen.has(key)) throw new KilnError("DUPLICATE_PLATFORM", `two images for ${key} in one index`, { hint: "give one image per platform" });
    seen.add(key);
  }
  const pending = [...entries];
  const out: Descriptor[] = [];
  for (const b of base) {
    if (isAttestation(b)) continue;
    const i = b.platform ? pending.findIndex((e) => platformMatches(e.platform!, b.platform!)) : -1;
    if (i >= 0) out.push(pending.splice(i, 1)[0]!);
    else out.push(b);
  }
  out.push(...pending);
  const kept = new Set<string>(out.map((d) => d.digest));
  for (const b of base) {
    const ref = b.annotations?.[Annotation.referenceDigest];
    if (isAttestation(b) && ref && kept.has(ref)) out.push(b);
  }
  return out;
}

/** Write an OCI image index of `entries` into the store; returns its descriptor. */
export async function putIndex(store: Store, entries: readonly Descriptor[], annotations?: Record<string, string>): Promise<Descriptor> {
  const idx = imageIndex(entries, annotations);
  return store.writeJson(MediaType.ociIndex, idx);
}

/** What `name` points at in the store, if anything. */
export async function taggedDescriptor(store: Store, name: string): Promise<Descriptor | undefined> {
  const full = normalizeTagName(name);
  return (await store.listImages()).find((r) => r.name === full)?.descriptor;
}

/**
 * The lock tagMerged holds from reading a name to tagging it. Its own, not
 * the GC lock (a caller holding that, as a build tagging its result does,
 * would wait on itself: the store lock is not re-entrant) nor the store's
 * index lock (store.tag takes that inside). Order: GC lock, then this, then
 * the index lock; never the GC lock while holding this.
 */
export const TAG_MERGE_LOCK = "tag-merge.lock";

/**
 * Tag `manifest` (a single-platform image) under `name`, merging: when the
 * name already points at an image of another platform, or at an index, the
 * name ends up pointing at an index holding both (same platform: replaced).
 * Returns what the name points at afterwards.
 */
export async function tagMerged(store: Store, name: string, manifest: Descriptor): Promise<Descriptor> {
  const platform = await manifestPlatform(store, manifest);
  const entry = indexEntry(manifest, platform);
  // Read, merge and tag as one step across processes: two imports of two
  // platforms under one name at once would otherwise both merge into what
  // the name was before, and the second tag would drop the first platform.
  return withStoreLock(
    store.root,
    async () => {
      const current = await taggedDescriptor(store, name);
      let base: Descriptor[] = [];
      if (current && isIndexMediaType(current.mediaType)) {
        base = [...(await store.readJson<ImageIndex>(current.digest)).manifests];
      } else if (current && isManifestMediaType(current.mediaType) && current.digest !== manifest.digest) {
        const p = await manifestPlatform(store, current).catch(() => undefined);
        if (p) base = [indexEntry(current, p)];
      }
      const merged = mergeIndexEntries(base, [entry]);
      const target = merged.length === 1 && merged[0]!.digest === manifest.digest ? entry : await putIndex(store, merged);
      await store.tag(name, target);
      return target;
    },
    { name: TAG_MERGE_LOCK },
  );
}

/** Every blob `d` needs (itself, and for an index its children's, for a manifest its config and layers), each once, in a stable order. */
export async function closureOf(store: Store, d: Descriptor): Promise<Descriptor[]> {
  const out = new Map<string, Descriptor>();
  const walk = async (x: Descriptor): Promise<void> => {
    if (out.has(x.digest)) return;
    out.set(x.digest, x);
    if (isIndexMediaType(x.mediaType)) {
      for (const c of (await store.readJson<ImageIndex>(x.digest)).manifests) await walk(c);
    } else if (isManifestMediaType(x.mediaType)) {
      const m = await store.readJson<ImageManifest>(x.digest);
      for (const c of [m.config, ...m.layers]) if (!out.has(c.digest)) out.set(c.digest, c);
    }
  };
  await walk(d);
  return [...out.values()];
}

export { Annotation };
