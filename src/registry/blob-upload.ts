// Putting one blob into a repository: skip when present (HEAD), mount from
// another repository of the same registry when we know one that has it,
// otherwise POST an upload session and either PUT the whole stream
// (monolithic) or, for large blobs, PATCH it in chunks so a failure resumes
// from what the registry has rather than from zero. Every request here is
// sent once; the upload as a whole retries under one budget (retry.ts), the
// PATCH resumptions included.
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { countedReadable } from "./byte-events.js";
import type { Descriptor } from "../oci/descriptor.js";
import { KilnError } from "../util/errors.js";
import { RetryBudget, retrying } from "./retry.js";
import { header, type Repository } from "./repository.js";

export interface BlobSource {
  /** A file holding the blob (the store's blobs/sha256/<hex>). */
  readonly path: string;
}

export interface UploadOptions {
  /** Repositories on the same registry known to hold the blob. */
  readonly mountFrom?: readonly string[];
  /** Blobs larger than this go up in PATCH chunks of this size (default 64 MiB). */
  readonly chunkSize?: number;
  /** The caller has just HEADed the blob and it was absent: the first attempt skips the HEAD. */
  readonly knownAbsent?: boolean;
  /** Bytes of the blob sent so far (a retry starts again from where the registry is). */
  readonly onBytes?: (bytes: number) => void;
}

export type UploadResult = "exists" | "mounted" | "uploaded";

const DEFAULT_CHUNK = 64 * 1024 * 1024;

export async function pushBlob(repo: Repository, desc: Descriptor, src: BlobSource, opts: UploadOptions = {}): Promise<UploadResult> {
  const budget = new RetryBudget(repo.client.retryPolicy, `upload of blob ${desc.digest} to ${repo.client.host}/${repo.name}`, repo.client.opts.signal);
  return retrying(budget, async (attempt) => {
    // HEAD first: an unchanged re-push is then HEADs only, and on a retry
    // the last attempt may have landed even though its answer was lost.
    if ((attempt > 1 || !opts.knownAbsent) && (await repo.headBlob(desc.digest, false)) !== undefined) return "exists";
    let location: string | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === repo.name) continue;
      const m = await mountBlob(repo, desc.digest, from);
      if (m.mounted) return "mounted";
      location = m.location;
      break;
    }
    location ??= await startUpload(repo);
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    if (desc.size > chunk) location = await patchChunks(repo, desc, src, location, chunk, budget, opts.onBytes);
    const put = await repo.client.send({
      method: "PUT",
      path: withDigest(location, desc.digest),
      headers: desc.size > chunk ? { "content-length": "0" } : { "content-type": "application/octet-stream", "content-length": String(desc.size) },
      ...(desc.size > chunk ? {} : { body: () => readCounted(src.path, 0, undefined, opts.onBytes) }),
      scopes: repo.scopes,
      what: `upload of ${desc.digest}`,
      retry: false,
    });
    await put.body.dump();
    return "uploaded";
  });
}

/**
 * Ask the registry to mount `digest` from the repository `from` (same
 * registry) into `repo`: one POST, no bytes. Not mounted (202), the
 * registry opened an upload session instead, at `location`.
 */
export async function mountBlob(repo: Repository, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
  const r = await repo.client.send({
    method: "POST",
    path: `/v2/${repo.name}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    scopes: [...repo.scopes, `repository:${from}:pull`],
    retry: false,
  });
  await r.body.dump();
  return r.status === 201 ? { mounted: true } : { mounted: false, location: resolveLocation(r, repo) };
}

async function startUpload(repo: Repository): Promise<string> {
  const r = await repo.client.send({ method: "POST", path: `/v2/${repo.name}/blobs/uploads/`, scopes: repo.scopes, retry: false, what: `repository ${repo.name}` });
  await r.body.dump();
  return resolveLocation(r, repo);
}

/** PATCH `size` bytes in chunks; on a failed chunk ask the session how much
 * it has (GET → Range: 0-N) and continue from there. The registry
 * appends whatever a PATCH delivered, even a partial body, so the offset
 * must come from it, never from what we think we sent. */
async function patchChunks(repo: Repository, desc: Descriptor, src: BlobSource, start: string, chunk: number, budget: RetryBudget, onBytes?: (bytes: number) => void): Promise<string> {
  let location = start;
  let offset = 0;
  while (offset < desc.size) {
    const end = Math.min(desc.size, offset + chunk) - 1;
    try {
      const r = await repo.client.send({
        method: "PATCH",
        path: location,
        headers: { "content-type": "application/octet-stream", "content-range": `${offset}-${end}`, "content-length": String(end - offset + 1) },
        body: () => readCounted(src.path, offset, end, onBytes),
        scopes: repo.scopes,
        retry: false,
      });
      await r.body.dump();
      location = resolveLocation(r, repo);
      offset = end + 1;
    } catch (e) {
      const status = isInterrupted(e) ? undefined : await uploadStatus(repo, location).catch(() => undefined);
      // Session gone, or "0-0" (0 or 1 bytes? the spec cannot say): restart
      // from POST (the caller's loop counts this failure).
      if (!status || status.offset === undefined) throw e;
      await budget.failed(e);
      offset = status.offset;
      location = status.location;
    }
  }
  return location;
}

/** How many bytes the upload session holds, and its current Location
 * (distribution signs the offset into the URL's _state, so the old one is stale). */
async function uploadStatus(repo: Repository, location: string): Promise<{ offset: number | undefined; location: string }> {
  const r = await repo.client.send({ method: "GET", path: location, scopes: repo.scopes, ok: [204], retry: false });
  await r.body.dump();
  const range = header(r.headers.range);
  const m = range ? /^(?:bytes=)?0-(\d+)$/.exec(range) : null;
  const end = m ? Number(m[1]) : undefined;
  const next = header(r.headers.location) ? resolveLocation(r, repo) : location;
  return { offset: end === undefined || end === 0 ? undefined : end + 1, location: next };
}

/** The file's bytes [start, end], counted into onBytes (as offsets in the whole blob) when given. */
function readCounted(file: string, start: number, end: number | undefined, onBytes?: (bytes: number) => void): Readable {
  const src = createReadStream(file, end === undefined ? { start } : { start, end });
  return onBytes ? countedReadable(src, onBytes, start) : src;
}

function isInterrupted(e: unknown): boolean {
  return (e as { name?: unknown }).name === "AbortError" || (e as { code?: unknown }).code === "INTERRUPTED";
}

function resolveLocation(r: { headers: Record<string, string | string[] | undefined>; url: string }, repo: Repository): string {
  const loc = header(r.headers.location);
  if (!loc) throw new KilnError("REGISTRY_PROTOCOL", `${repo.client.host} opened an upload for ${repo.name} without a Location`);
  return new URL(loc, r.url).toString();
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set("digest", digest);
  return u.toString();
}
