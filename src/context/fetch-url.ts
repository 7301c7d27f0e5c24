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

export function isRemoteUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

export async function fetchUrl(url: string, tmpDir: string, checksum: string | undefined, loc: SourceLocation, signal?: AbortSignal): Promise<FetchedFile> {
  if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw new KilnError("INVALID_CHECKSUM", `--checksum=${checksum}: expected sha256:<64 hex digits>`, { location: loc });
  }
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
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), tee, createWriteStream(file, { mode: 0o600 }));
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
    const seg = new URL(url).pathname.split("/").filter(Boolean).at(-1);
    return { path: file, name: seg ? decodeURIComponent(seg) : "__unnamed__", digest, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
