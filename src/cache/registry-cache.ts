// The exported cache on a registry: the same manifest and blobs as the
// local form, pushed to REF (blobs first, the manifest last, so a failed
// export never leaves a manifest pointing at a missing blob) and fetched
// back with every digest verified. Loaded only when a registry cache is used.
import { parseReference } from "../oci/reference.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { pushBlob } from "../registry/blob-upload.js";
import { clientFor } from "../registry/hosts.js";
import { mapLimit } from "../registry/limit.js";
import { Repository } from "../registry/repository.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";

function repositoryFor(ref: string, actions: "pull" | "pull,push") {
  const r = parseReference(ref);
  const repo = new Repository(clientFor(r.registry), r.repository, actions);
  return { repo, reference: r.digest ?? r.tag ?? "latest" };
}

export async function pushBlobsAndManifest(store: Store, ref: string, manifest: Descriptor, blobs: readonly Descriptor[]): Promise<void> {
  const { repo, reference } = repositoryFor(ref, "pull,push");
  try {
    await mapLimit(blobs, 4, (d) => pushBlob(repo, d, { path: store.blobPath(d.digest) }));
    await repo.putManifest(reference, await store.readBlob(manifest.digest), MediaType.ociManifest);
  } finally {
    await repo.client.close?.();
  }
}

export async function fetchCacheManifest(store: Store, ref: string): Promise<{ manifestDesc: Descriptor; fetch: (d: Descriptor) => Promise<void> }> {
  const { repo, reference } = repositoryFor(ref, "pull");
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
    fetch: async (d) => {
      if (await store.hasBlob(d.digest)) return;
      await store.ingestBlob(await repo.getBlob(d.digest), { digest: d.digest, size: d.size });
    },
  };
}
