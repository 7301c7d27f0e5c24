// The name a pull of one platform from a multi-platform image leaves in the
// store: an index, never the one platform's manifest, so the next build for
// another platform finds the name, sees that platform missing and pulls it,
// instead of taking the wrong one. The index holds the platforms pulled so
// far from the same registry index (named by an annotation): pulling a
// second platform adds it, and pulling after the registry's tag moved to
// another index starts over. The registry's index itself cannot be tagged
// until all of it is in the store (the store only names complete images);
// `kiln pull --all-platforms` does that.
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { formatPlatform, normalizePlatform, type Platform } from "../oci/platform.js";
import { withStoreLock } from "../store/lock.js";
import type { Store } from "../store/store.js";
import { indexEntry, mergeIndexEntries, putIndex, TAG_MERGE_LOCK, taggedDescriptor } from "../store/image-index.js";

export async function tagPulledPlatform(
  store: Store,
  name: string,
  source: { digest: Digest; index: ImageIndex },
  pulled: Descriptor & { platform: Platform },
): Promise<Descriptor> {
  return withStoreLock(
    store.root,
    async () => {
      const current = await taggedDescriptor(store, name);
      // The whole registry index is already named (pulled with --all-platforms).
      if (current?.digest === source.digest) return current;
      let base: Descriptor[] = [];
      if (current && isIndexMediaType(current.mediaType)) {
        const idx = await store.readJson<ImageIndex>(current.digest);
        if (idx.annotations?.[Annotation.pulledFromIndex] === source.digest) base = [...idx.manifests];
      }
      const merged = mergeIndexEntries(base, [indexEntry(pulled, normalizePlatform(pulled.platform))]);
      // In the registry index's order, so the same platforms pulled in any order give the same index.
      const rank = (d: Descriptor) => {
        const i = source.index.manifests.findIndex((m) => m.digest === d.digest);
        return i < 0 ? source.index.manifests.length : i;
      };
      merged.sort((a, b) => rank(a) - rank(b) || formatPlatform(a.platform!).localeCompare(formatPlatform(b.platform!)));
      const pulledFrom = { [Annotation.pulledFromIndex]: source.digest };
      const target = await putIndex(store, merged, pulledFrom);
      await store.tag(name, { ...target, annotations: pulledFrom });
      return target;
    },
    { name: TAG_MERGE_LOCK },
  );
}
