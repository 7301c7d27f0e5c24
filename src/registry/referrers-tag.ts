// The OCI 1.1 referrers tag schema, for registries without the referrers
// API: the tag <alg>-<hex> of a subject digest holds an image index listing
// the manifests whose subject it is. Clients, not the registry, keep it up
// to date, so every reader and writer goes through these functions.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType, MediaType } from "../oci/media-types.js";
import { KilnError } from "../util/errors.js";
import type { Repository } from "./repository.js";

/** sha256:abc… → sha256-abc… (a tag may not hold a colon). */
export function referrersTag(subject: Digest): string {
  return subject.replace(":", "-");
}

/** The subject's tag index; undefined when the tag does not exist yet. */
export async function readReferrersTag(repo: Repository, subject: Digest): Promise<ImageIndex | undefined> {
  const tag = referrersTag(subject);
  let m;
  try {
    m = await repo.getManifest(tag);
  } catch (e) {
    if ((e as { code?: string }).code === "REGISTRY_NOT_FOUND") return undefined;
    throw e;
  }
  const idx = JSON.parse(m.bytes.toString("utf8")) as ImageIndex | null;
  if (!isIndexMediaType(m.mediaType) || !Array.isArray(idx?.manifests)) {
    throw new KilnError("REFERRERS_TAG_INVALID", `${repo.client.host}/${repo.name}:${tag} is a ${m.mediaType}, not the image index of the referrers tag schema`, {
      hint: `the tag name is reserved for the referrers of ${subject}; delete or rename what is there`,
    });
  }
  return idx;
}

/** List `referrer` in its subject's tag index (GET, add, PUT); false when it
 * was listed already, so a repeated push writes nothing. The referrer itself
 * must already be in the repository: the index must never point at a
 * missing manifest (and registries such as distribution refuse one that does). */
export async function addToReferrersTag(repo: Repository, subject: Digest, referrer: Descriptor): Promise<boolean> {
  const current = await readReferrersTag(repo, subject);
  if (current?.manifests.some((d) => d.digest === referrer.digest)) return false;
  // Concurrent writers of the same tag can lose an entry: distribution has
  // no conditional PUT (If-Match) to detect it.
  const next: ImageIndex = {
    ...current,
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...(current?.manifests ?? []), referrer],
  };
  await repo.putManifest(referrersTag(subject), Buffer.from(JSON.stringify(next)), MediaType.ociIndex);
  return true;
}
