// ADD https://...: the remote file is streamed to a temp file while its
// sha256 is computed (never buffered), checked against --checksum, and
// given the server's Last-Modified as its mtime, as docker does.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KilnError, type SourceLocation } from "../util/errors.js";

export interface FetchedFile {
  /** Temp file on the host; removed by cleanup(). */
  readonly path: string;
  /** File name for `ADD URL dir/`: the last segment of the URL path. */
  readonly name: string;
  readonly digest: string;
  readonly cleanup: () => Promise<void>;
}

export async function fetchUrl(url: string, tmpDir: string, checksum: string | undefined, loc: SourceLocation, signal?: AbortSignal): Promise<FetchedFile> {
  if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw new KilnError("INVALID_CHECKSUM", `--checksum=${checksum}: expected sha256:<64 hex digits>`, { location: loc });
  }
  const name = fileNameOf(url, loc);
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow", ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new KilnError("ADD_URL_FAILED", `ADD ${url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { location: loc, cause: err });
  }
  if (!res.ok || !res.body) {
    throw new KilnError("ADD_URL_FAILED", `ADD ${url}: the server answered ${res.status} ${res.statusText}`, { location: loc });
  }
  const dir = await mkdtemp(path.join(tmpDir, `add-url-${process.pid}-`));
  const file = path.join(dir, "download");
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const hash = createHash("sha256");
    let received = 0;
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        received += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), tee, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      if (signal?.aborted || err instanceof KilnError) throw err;
      // undici reports a connection closed mid-body as "TypeError: terminated".
      const why = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
      throw new KilnError("ADD_URL_FAILED", `ADD ${url}: download interrupted after ${received} bytes (${why})`, { location: loc, cause: err, hint: "the server closed the connection early; retry the build" });
    }
    const digest = `sha256:${hash.digest("hex")}`;
    if (checksum !== undefined && digest !== checksum) {
      throw new KilnError("CHECKSUM_MISMATCH", `ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`, {
        location: loc,
        hint: "the file on the server changed, or --checksum is wrong",
      });
    }
    const lastModified = res.headers.get("last-modified");
    const mtime = lastModified ? new Date(lastModified) : undefined;
    if (mtime && !Number.isNaN(mtime.getTime())) await utimes(file, mtime, mtime);
    return { path: file, name, digest, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * The file name `ADD URL dir/` writes: as BuildKit, the base name of the
 * URL's *decoded* path (Go's path.Base(url.Path)), so `%2e%2e%2f` can never
 * make it a path; "__unnamed__" when the path names nothing.
 */
export function fileNameOf(url: string, loc: SourceLocation): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new KilnError("ADD_URL_INVALID", `ADD ${url}: the URL path has a malformed %-escape`, { location: loc, hint: "each % must start a %XX escape of two hex digits (write a literal % as %25)" });
  }
  const trimmed = decoded.replace(/\/+$/, "");
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  if (base === "") return "__unnamed__";
  if (base === "." || base === ".." || base.includes("\0")) {
    throw new KilnError("ADD_URL_INVALID", `ADD ${url}: the URL path ends in ${JSON.stringify(base)}, which is not a file name`, { location: loc, hint: "give the destination a file name: ADD URL /dir/name" });
  }
  return base;
}
