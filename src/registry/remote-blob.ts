// The bytes of a blob the store knows only by where it lives
// (store/remote-blobs.ts), fetched into the store when something first
// needs them: through the origin registry's mirrors first, as a pull.
import type { Descriptor } from "../oci/descriptor.js";
import { formatReference } from "../oci/reference.js";
import { remoteOrigin, type RemoteOrigin } from "../store/remote-blobs.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { downloadBlob } from "./blob-download.js";
import type { ClientOptions } from "./client.js";
import { openPullSource } from "./pull-source.js";

/** Fetches `blob` from `origin` into the store (verified); a no-op when the store has it. */
export async function fetchFromOrigin(store: Store, blob: Descriptor, origin: RemoteOrigin, opts: ClientOptions = {}, onBytes?: (n: number) => void): Promise<void> {
  if (await store.hasBlob(blob.digest)) return;
  const ref = { registry: origin.registry, repository: origin.repository };
  // The first host (mirror or registry) that has the blob serves it.
  const src = await openPullSource(ref, opts, async (repo) => {
    if ((await repo.headBlob(blob.digest)) === undefined) {
      throw new KilnError("REGISTRY_NOT_FOUND", `blob ${blob.digest} not found in ${formatReference(ref)} on ${repo.client.host}`);
    }
  });
  try {
    await downloadBlob(src.repo, store, blob, onBytes);
  } finally {
    await src.client.close();
  }
}

/** A blob of an image in the store, fetched from its recorded origin when the store lacks it. */
export async function fetchRemoteBlob(store: Store, blob: Descriptor, opts: ClientOptions = {}): Promise<void> {
  if (await store.hasBlob(blob.digest)) return;
  const origin = remoteOrigin(store.paths, blob.digest);
  if (!origin) throw new KilnError("MISSING_BLOB", `blob ${blob.digest} is not in the store, and the store does not know where it came from`);
  await fetchFromOrigin(store, blob, origin, opts);
}
