// Size bounds on the JSON documents kiln reads from registries, archives and
// layouts. Such documents are read whole into memory, so an unbounded one is
// a way to exhaust it (a 200 MB "manifest"); a reader streams and stops at
// the bound instead. Layers are streamed to disk and have no such bound.

/** Manifests and indexes: the distribution spec lets registries refuse
 * anything larger than 4 MiB, and they do (distribution, Docker Hub). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Image configs: no spec bound; real ones are kilobytes, the largest seen
 * (long histories, huge label sets) a few MiB. 16 MiB leaves room while
 * still refusing a memory-exhausting one. Attestation blobs (SBOMs of large
 * images) share this bound. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Small registry answers: token responses, error bodies, tag lists pages. */
export const MAX_SMALL_RESPONSE_BYTES = 1024 * 1024;
