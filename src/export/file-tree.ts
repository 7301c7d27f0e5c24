// A sink's output as a list of files (bytes or a path to copy from), written
// either as a directory or as a deterministic tar: entries sorted by name,
// owner 0:0, fixed modes, one fixed mtime. Both are written under a temp
// name beside the destination and renamed into place, so a reader never sees
// a half-written export.
import { randomBytes } from "node:crypto";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

export type TreeEntry =
  | { readonly path: string; readonly kind: "bytes"; readonly data: Uint8Array | string }
  | { readonly path: string; readonly kind: "file"; readonly source: string };

export interface TarOptions {
  /** Timestamp of every entry, seconds since the epoch (default 0; pass
   * SOURCE_DATE_EPOCH for reproducible builds that want a real date). */
  readonly mtime?: number;
  /** Abort: the tar stops (a file being written is removed). */
  readonly signal?: AbortSignal;
}

/** Unique entries by path (same path twice must be the same blob), sorted. */
function normalize(entries: readonly TreeEntry[]): TreeEntry[] {
  const byPath = new Map<string, TreeEntry>();
  for (const e of entries) byPath.set(e.path, e);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function parentDirs(entries: readonly TreeEntry[]): string[] {
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].sort();
}

function siblingTemp(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.kiln-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Stream a deterministic tar of `entries` into `out` (a file, stdout, ...). */
export async function writeTar(entries: readonly TreeEntry[], out: Writable, opts: TarOptions = {}): Promise<void> {
  const mtime = new Date((opts.mtime ?? 0) * 1000);
  const files = normalize(entries);
  // Loaded when a tar is written, not at every kiln start.
  const { default: tar } = await import("tar-stream");
  const pack = tar.pack();
  const done = pipeline(pack, out, opts.signal ? { signal: opts.signal } : {});
  const items: ({ kind: "dir"; path: string } | TreeEntry)[] = [
    ...parentDirs(files).map((path) => ({ kind: "dir" as const, path })),
    ...files,
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const base = { uid: 0, gid: 0, uname: "", gname: "", mtime };
  try {
    for (const e of items) {
      if (e.kind === "dir") {
        pack.entry({ ...base, name: `${e.path}/`, type: "directory", mode: 0o755 });
      } else if (e.kind === "bytes") {
        const data = typeof e.data === "string" ? Buffer.from(e.data, "utf8") : Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
        pack.entry({ ...base, name: e.path, type: "file", mode: 0o644, size: data.length }, data);
      } else {
        const { size } = await stat(e.source);
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ ...base, name: e.path, type: "file", mode: 0o644, size }, (err) => (err ? reject(err) : resolve()));
          const src = createReadStream(e.source);
          src.on("error", (err) => {
            sink.destroy(err);
            reject(err);
          });
          src.pipe(sink);
        });
      }
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await done.catch(() => {});
    throw e;
  }
  await done;
}

/** Write the tar to `dest` atomically (temp file beside it, fsync, rename). */
export async function writeTarFile(entries: readonly TreeEntry[], dest: string, opts: TarOptions = {}): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = siblingTemp(dest);
  try {
    await writeTar(entries, createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true }), opts);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Write the files as a directory at `dest`, replacing whatever was there. */
export async function writeDirectory(entries: readonly TreeEntry[], dest: string): Promise<void> {
  const tmp = siblingTemp(dest);
  try {
    for (const e of normalize(entries)) {
      const p = join(tmp, e.path);
      await mkdir(dirname(p), { recursive: true });
      if (e.kind === "bytes") await writeFile(p, e.data, { mode: 0o644 });
      // A reflink where the filesystem has them, else a real copy: never a
      // hard link, or editing the export would corrupt the store's blob.
      else await copyFile(e.source, p, constants.COPYFILE_FICLONE);
    }
    const trash = siblingTemp(dest);
    const had = await rename(dest, trash).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return false;
        throw err;
      },
    );
    await rename(tmp, dest);
    if (had) await rm(trash, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
