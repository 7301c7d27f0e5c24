// Turns an overlayfs upper dir into an OCI layer tar, streamed.
//
// overlay form → OCI form: a 0/0 char device NAME is a deletion and becomes
// an empty `.wh.NAME`; a dir with trusted.overlay.opaque=y (user.overlay.
// in a user namespace) replaced the lower dir and gets a `DIR/.wh..wh..opq`
// after its own entry. Other overlay.* attributes are overlay bookkeeping and are dropped; all
// other xattrs (security.capability!) become SCHILY.xattr.* PAX records.
//
// Deterministic: entries are sorted by the byte order of their full names
// (parents sort before children since a parent is a prefix), uname/gname
// are empty, times are whole seconds (clamped to SOURCE_DATE_EPOCH when
// given), PAX records are sorted. Same tree → same bytes → same diffID.
// This needs the list of paths (not contents) in memory to sort it.
import { constants as fsc, type BigIntStats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KilnError } from "../util/errors.js";
import { BLOCK, encodeHeader, padding, type TarEntry } from "../tar/tar-header.js";
import { isOpaqueDir, isOverlayXattr } from "../rootless/namespace.js";
import { dumpXattrs } from "./xattr.js";

export interface LayerTarOptions {
  /** Clamp every mtime to at most this (seconds since the epoch). */
  sourceDateEpoch?: number;
  /** Leave out a path (relative, no leading "/" or "./") and, for a dir, everything under it. */
  exclude?: (relPath: string) => boolean;
  /** Abort: the stream is destroyed (an AbortError), so whoever reads it stops. */
  signal?: AbortSignal;
}


interface Item {
  /** The tar entry name (relative, no trailing slash). */
  name: string;
  entry: TarEntry;
  /** Host path to read content from (regular files only). */
  source?: string;
  /** dev:ino, for hardlink detection. */
  inode?: string;
}

function cmpBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
}

async function collect(upper: string, opts: LayerTarOptions): Promise<Item[]> {
  const root = path.resolve(upper);
  const xattrs = await dumpXattrs(root);
  const epoch = opts.sourceDateEpoch;
  const items: Item[] = [];
  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(relDir ? path.join(root, relDir) : root)).filter(
      (n) => !opts.exclude?.(relDir ? `${relDir}/${n}` : n),
    );
    // lstat a directory's entries concurrently: the walk is syscall-bound.
    const stats = await Promise.all(names.map((n) => lstat(path.join(root, relDir, n), { bigint: true })));
    for (const [i, n] of names.entries()) {
      const rel = relDir ? `${relDir}/${n}` : n;
      const abs = path.join(root, rel);
      const st: BigIntStats = stats[i]!;
      let mtime = Number(st.mtimeNs / 1_000_000_000n);
      if (epoch !== undefined && mtime > epoch) mtime = epoch;
      const xa = xattrs.get(abs);
      const base: Omit<TarEntry, "type" | "name"> = {
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime,
        size: 0,
      };
      const kept = new Map<string, Buffer>();
      if (xa) for (const [k, v] of [...xa].sort((a, b) => cmpBytes(a[0], b[0]))) if (!isOverlayXattr(k)) kept.set(k, v);
      if (kept.size > 0) base.xattrs = kept;

      if (st.isCharacterDevice() && st.rdev === 0n) {
        const name = relDir ? `${relDir}/.wh.${n}` : `.wh.${n}`;
        items.push({ name, entry: { name, type: "file", mode: 0, uid: 0, gid: 0, mtime, size: 0 } });
      } else if (st.isDirectory()) {
        items.push({ name: rel, entry: { ...base, name: rel, type: "directory" } });
        if (isOpaqueDir(xa)) {
          const name = `${rel}/.wh..wh..opq`;
          items.push({ name, entry: { name, type: "file", mode: 0, uid: 0, gid: 0, mtime, size: 0 } });
        }
        await walk(rel);
      } else if (st.isFile()) {
        const item: Item = { name: rel, entry: { ...base, name: rel, type: "file", size: Number(st.size) }, source: abs };
        if (st.nlink > 1n) item.inode = `${st.dev}:${st.ino}`;
        items.push(item);
      } else if (st.isSymbolicLink()) {
        items.push({ name: rel, entry: { ...base, name: rel, type: "symlink", linkname: await readlink(abs) } });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const type = st.isCharacterDevice() ? "char" : "block";
        const item: Item = { name: rel, entry: { ...base, name: rel, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) } };
        if (st.nlink > 1n) item.inode = `${st.dev}:${st.ino}`;
        items.push(item);
      } else if (st.isFIFO()) {
        items.push({ name: rel, entry: { ...base, name: rel, type: "fifo" } });
      }
      // Sockets are not representable in tar and never belong in a layer.
    }
  };
  await walk("");
  items.sort((a, b) => cmpBytes(a.name, b.name));
  // Hardlinks: the first path (in tar order) of an inode carries it; later ones link to it.
  const first = new Map<string, string>();
  for (const it of items) {
    if (!it.inode) continue;
    const f = first.get(it.inode);
    if (f === undefined) first.set(it.inode, it.name);
    else {
      it.entry = { ...it.entry, type: "link", linkname: f, size: 0 };
      delete it.source;
    }
  }
  return items;
}

async function* generate(items: Item[]): AsyncGenerator<Buffer> {
  for (const it of items) {
    yield encodeHeader(it.entry);
    if (it.source && it.entry.size > 0) {
      let n = 0;
      // O_NOFOLLOW: the path was a regular file when listed; never let a swap for a symlink read host files.
      const fh = await open(it.source, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      for await (const chunk of fh.createReadStream({ start: 0, end: it.entry.size - 1, highWaterMark: 1 << 20 })) {
        n += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (n !== it.entry.size) {
        throw new KilnError("LAYER_SOURCE_CHANGED", `${it.source} changed size while it was being read into a layer`);
      }
      const pad = padding(n);
      if (pad) yield Buffer.alloc(pad);
    }
  }
  yield Buffer.alloc(BLOCK * 2); // end-of-archive marker
}

/** The layer tar of `upper` as a byte stream. */
export function layerTarStream(upper: string, opts: LayerTarOptions = {}): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    yield* generate(await collect(upper, opts));
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 });
}

/** Writes the layer tar of overlay upper dir `upper` to `out` (which is ended). */
export async function writeLayerTar(upper: string, out: Writable, opts: LayerTarOptions = {}): Promise<void> {
  await pipeline(layerTarStream(upper, opts), out);
}
