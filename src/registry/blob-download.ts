// Fetching one blob into the store: GET, stream into ingest (which checks
// digest and size, and cuts a body off as soon as it overruns the size),
// and on a retryable failure (a dropped or stalled body, a corrupted byte)
// the whole GET again, under one retry budget. A blob the store has is not
// fetched.
import type { Descriptor } from "../oci/descriptor.js";
import type { Store } from "../store/store.js";
import { countedReadable } from "./byte-events.js";
import type { Repository } from "./repository.js";

/** `onBytes(n)`: bytes received so far of this attempt (a retried GET starts again from 0). */
export async function downloadBlob(repo: Repository, store: Store, d: Descriptor, onBytes?: (received: number) => void): Promise<"exists" | "downloaded"> {
  if (await store.hasBlob(d.digest)) return "exists";
  await repo.client.attempt(`GET ${repo.client.host}/v2/${repo.name}/blobs/${d.digest}`, async () => {
    const body = await repo.getBlob(d.digest);
    await store.ingestBlob(onBytes ? countedReadable(body, onBytes) : body, { digest: d.digest, size: d.size });
  });
  return "downloaded";
}
