// The exported cache on a registry: the same manifest and blobs as the
// local form, pushed to REF (blobs first, the manifest last, so a failed
// export never leaves a manifest pointing at a missing blob) and fetched
// back with every digest verified: the manifest and records at import, each
// layer when a cache hit needs it (lazy-layers.ts). Loaded only when a
// registry cache is used.
import { parseReference } from "../oci/reference.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { pushBlob } from "../registry/blob-upload.js";
import { downloadBlob } from "../registry/blob-download.js";
import type { ClientOptions } from "../registry/client.js";
import { clientFor } from "../registry/hosts.js";
import { mapLimit } from "../registry/limit.js";
import { Repository } from "../registry/repository.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { BlobSource } from "./lazy-layers.js";

function repositoryFor(ref: string, actions: "pull" | "pull,push", client: ClientOptions) {
  const r = parseReference(ref);
  const repo = new Repository(clientFor(r.registry, client), r.repository, actions);
  return { repo, reference: r.digest ?? r.tag ?? "latest" };
}

export async function pushBlobsAndManifest(store: Store, ref: string, manifest: Descriptor, blobs: readonly Descriptor[], client: ClientOptions = {}): Promise<void> {
  const { repo, reference } = repositoryFor(ref, "pull,push", client);
  try {
    await mapLimit(blobs, 4, (d) => pushBlob(repo, d, { path: store.blobPath(d.digest) }));
    await repo.putManifest(reference, await store.readBlob(manifest.digest), MediaType.ociManifest);
  } finally {
    await repo.client.close?.();
  }
}

/** The cache manifest at REF, now in the store, and where the rest of its blobs can be fetched from. */
export async function openRegistryCache(store: Store, ref: string, client: ClientOptions = {}): Promise<{ manifestDesc: Descriptor; source: BlobSource }> {
  const { repo, reference } = repositoryFor(ref, "pull", client);
  const m = await repo.getManifest(reference).catch((err: unknown) => {
    if (err instanceof KilnError && /404|unknown|not found/i.test(err.message)) {
      throw new KilnError("CACHE_NOT_FOUND", `no build cache at ${ref}`, { hint: "export one first with --cache-to type=registry,ref=..." });
    }
    throw err;
  });
  const desc = await store.writeBlob(m.bytes);
  const manifestDesc: Descriptor = { mediaType: MediaType.ociManifest, digest: desc.digest, size: desc.size };
  return {
    manifestDesc,
    source: {
      name: ref,
      origin: { registry: parseReference(ref).registry, repository: parseReference(ref).repository },
      fetch: async (d) => {
        await downloadBlob(repo, store, d);
      },
    },
  };
}
