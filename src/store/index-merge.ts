// The entries of one image index made from several sources (single-platform
// manifests, or indexes whose images and attestations come along), as
// `kiln index create` (sources in the store) and `kiln imagetools create`
// (sources on a registry) both make it: each manifest with its platform, in
// the order given; two different images for one platform are an error.
// Where the sources live is the reader's business.
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { formatPlatform, type Platform } from "../oci/platform.js";
import { KilnError } from "../util/errors.js";
import { indexEntry, mergeIndexEntries } from "./image-index.js";

export interface IndexSourceReader {
  /** The manifest or index SOURCE names. */
  describe(source: string): Promise<Descriptor>;
  readIndex(d: Descriptor, source: string): Promise<ImageIndex>;
  /** A manifest's platform (from its config). */
  platformOf(d: Descriptor, source: string): Promise<Platform>;
}

export interface MergedSource {
  readonly source: string;
  readonly descriptor: Descriptor;
  /** The entries this source put in the index (its attestations included). */
  readonly entries: readonly Descriptor[];
}

export async function mergeIndexSources(reader: IndexSourceReader, sources: readonly string[]): Promise<{ entries: Descriptor[]; sources: MergedSource[] }> {
  if (sources.length === 0) throw new KilnError("USAGE", "an index needs at least one SOURCE image");
  let entries: Descriptor[] = [];
  const merged: MergedSource[] = [];
  const byPlatform = new Map<string, string>();
  const fresh = (list: readonly Descriptor[], from: string): Descriptor[] => {
    const out: Descriptor[] = [];
    for (const e of list) {
      if (!e.platform || e.platform.os === "unknown") continue;
      const key = formatPlatform(e.platform);
      const had = byPlatform.get(key);
      if (had === e.digest) continue;
      if (had) throw new KilnError("DUPLICATE_PLATFORM", `two different images for ${key}: ${had} and ${e.digest} (from ${from})`, { hint: "give one image per platform" });
      byPlatform.set(key, e.digest);
      out.push(e);
    }
    return out;
  };
  for (const src of sources) {
    const d = await reader.describe(src);
    if (isIndexMediaType(d.mediaType)) {
      const children = [...(await reader.readIndex(d, src)).manifests];
      const images = fresh(children, src);
      const kept = new Set<string>(images.map((c) => c.digest));
      const attest = children.filter((c) => c.platform?.os === "unknown" && kept.has(c.annotations?.[Annotation.referenceDigest] ?? ""));
      entries = mergeIndexEntries([...entries, ...attest], images);
      merged.push({ source: src, descriptor: d, entries: [...images, ...attest] });
    } else {
      const images = fresh([indexEntry(d, await reader.platformOf(d, src))], src);
      entries = mergeIndexEntries(entries, images);
      merged.push({ source: src, descriptor: d, entries: images });
    }
  }
  return { entries, sources: merged };
}
