// Merging images in the store into one image index (`kiln index create`, as
// `docker buildx imagetools create` does on a registry): the last step of
// building each platform on its own runner. And what an index holds
// (`kiln index inspect`).
import { manifestPlatform, putIndex } from "../store/image-index.js";
import { type IndexSourceReader, mergeIndexSources } from "../store/index-merge.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isDigest, sha256Digest, type Digest } from "../oci/digest.js";
import { imageIndex, type ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import { canonicalJson } from "../store/canonical-json.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { normalizeTagName } from "../store/refs.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";

export interface CreateIndexOptions {
  /** Names for the index in the store. */
  readonly tags?: readonly string[];
  /** Compute the index without storing or tagging it. */
  readonly dryRun?: boolean;
}

export interface CreatedIndex {
  readonly index: Descriptor;
  readonly entries: readonly Descriptor[];
  /** The index's JSON, as stored (canonical). */
  readonly json: string;
  /** The tags set, normalized. */
  readonly tags: readonly string[];
}

/**
 * The index that merges `sources` (names, NAME@DIGEST or digests): each
 * manifest with its platform, each index's entries (attestations kept with
 * the images they describe), in the order given; two different images for
 * one platform are refused. Stored and tagged under the GC lock unless dryRun.
 */
export async function createIndex(store: Store, sources: readonly string[], opts: CreateIndexOptions = {}): Promise<CreatedIndex> {
  if (sources.length === 0) throw new KilnError("USAGE", "kiln index create needs at least one SOURCE image", { hint: "kiln index create [-t REPO:TAG]... [--dry-run] SOURCE..." });
  const dryRun = opts.dryRun ?? false;
  const tags = (opts.tags ?? []).map(normalizeTagName);
  const { index, entries } = await withStoreLock(
    store.root,
    async () => {
      const r = await mergeIntoIndex(store, sources, dryRun);
      if (!dryRun) for (const t of tags) await store.tag(t, r.index);
      return r;
    },
    { name: GC_LOCK },
  );
  return { index, entries, json: canonicalJson(imageIndex(entries)), tags: dryRun ? [] : tags };
}

export interface InspectedIndex {
  readonly descriptor: Descriptor;
  /** The manifest or index exactly as stored. */
  readonly raw: Buffer;
  /** An index's entries. */
  readonly manifests?: readonly Descriptor[];
  /** An image manifest's platform. */
  readonly platform?: Platform;
}

/** What `name` (a name, NAME@DIGEST or a digest) is in the store: an index's entries or an image's platform. */
export async function inspectIndex(store: Store, name: string): Promise<InspectedIndex> {
  const descriptor = await sourceDescriptor(store, name);
  const raw = await store.readBlob(descriptor.digest);
  if (isIndexMediaType(descriptor.mediaType)) return { descriptor, raw, manifests: (await store.readIndex(descriptor.digest)).manifests };
  return { descriptor, raw, platform: await manifestPlatform(store, descriptor) };
}

/** A source's descriptor in the store: a tag, NAME@DIGEST, or a bare digest. */
export async function sourceDescriptor(store: Store, src: string): Promise<Descriptor> {
  const notFound = () =>
    new KilnError("IMAGE_NOT_FOUND", `no such image in the store: ${src}`, {
      // Pulling per-platform pushes to merge them would download every layer; imagetools moves only manifests.
      hint: "build, pull or import it first (`kiln images` lists what there is); to merge images already pushed to a registry, use `kiln imagetools create -t REPO:TAG REF...` (no layer moves)",
    });
  let digest: Digest | undefined;
  if (isDigest(src)) digest = src as Digest;
  else {
    let ref;
    try {
      ref = parseReference(src);
    } catch (e) {
      throw new KilnError("INVALID_REFERENCE", `invalid image reference "${src}"`, { cause: e });
    }
    if (ref.digest) digest = ref.digest as Digest;
    else {
      const full = normalizeTagName(src);
      const hit = (await store.listImages()).find((r) => r.name === full);
      if (!hit) throw notFound();
      return hit.descriptor;
    }
  }
  if (!(await store.hasBlob(digest))) throw notFound();
  const buf = await store.readBlob(digest);
  let mediaType: string | undefined;
  try {
    const j = JSON.parse(buf.toString("utf8")) as { mediaType?: string; manifests?: unknown; config?: unknown };
    mediaType = j.mediaType ?? (j.manifests ? "application/vnd.oci.image.index.v1+json" : j.config ? "application/vnd.oci.image.manifest.v1+json" : undefined);
  } catch {
    mediaType = undefined;
  }
  if (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) throw new KilnError("NOT_AN_IMAGE", `${src} is not an image manifest or index`);
  return { mediaType: mediaType!, digest, size: buf.length };
}

/** Sources in the store, for mergeIndexSources. */
function storeSources(store: Store): IndexSourceReader {
  return {
    describe: (src) => sourceDescriptor(store, src),
    readIndex: (d) => store.readJson<ImageIndex>(d.digest),
    platformOf: (d) => manifestPlatform(store, d),
  };
}

/**
 * The index that merges `sources`: each manifest with its platform, each
 * index's entries (attestations kept with the images they describe), in the
 * order given. Written to the store (not tagged) unless dryRun.
 */
async function mergeIntoIndex(store: Store, sources: readonly string[], dryRun: boolean): Promise<{ index: Descriptor; entries: Descriptor[] }> {
  const { entries } = await mergeIndexSources(storeSources(store), sources);
  if (dryRun) {
    const buf = Buffer.from(canonicalJson(imageIndex(entries)));
    return { index: { mediaType: MediaType.ociIndex, digest: sha256Digest(buf), size: buf.length }, entries };
  }
  return { index: await putIndex(store, entries), entries };
}

