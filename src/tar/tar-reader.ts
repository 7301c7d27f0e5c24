// A streaming tar reader: yields one entry at a time with its content as an
// async iterable of chunks, so a layer is never held in memory. PAX and GNU
// long-name headers are folded into the entry they describe; PAX values stay
// raw bytes so binary xattrs survive (see tar-header.ts).
import { KilnError } from "../util/errors.js";
import { BLOCK, decodeHeader, decodePax, isZeroBlock, padding, type TarEntry, type TarEntryType } from "./tar-header.js";

export interface TarReadEntry {
  /** The entry as stored: `name` may still hold "./", "/" or ".." parts; callers must sanitise it. */
  header: TarEntry;
  /** Content of a regular file; must be consumed (or left alone) before the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
};

const MAX_META = 16 << 20; // PAX / long-name payloads larger than this are hostile

class ByteReader {
  #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(src: AsyncIterable<Buffer | string>) {
    const inner = src[Symbol.asyncIterator]();
    this.#it = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return r;
        return { done: false, value: typeof r.value === "string" ? Buffer.from(r.value) : r.value };
      },
    };
  }

  async #fill(n: number): Promise<boolean> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else this.#buf = this.#buf.length === 0 ? r.value : Buffer.concat([this.#buf, r.value]);
    }
    return this.#buf.length >= n;
  }

  /** Exactly n bytes, or null at a clean end of stream. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.#fill(n))) {
      if (this.#buf.length === 0) return null;
      throw new KilnError("BAD_LAYER", "layer tar is truncated");
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Up to `max` bytes that are already available (at least 1), for streaming bodies. */
  async readSome(max: number): Promise<Buffer> {
    if (this.#buf.length === 0 && !(await this.#fill(1))) throw new KilnError("BAD_LAYER", "layer tar is truncated");
    const n = Math.min(max, this.#buf.length);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) n -= (await this.readSome(n)).length;
  }
}

export async function* readTar(src: AsyncIterable<Buffer | string>): AsyncGenerator<TarReadEntry> {
  const r = new ByteReader(src);
  let pax: Map<string, Buffer> | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  for (;;) {
    const block = await r.read(BLOCK);
    if (block === null) return; // tolerate a missing end-of-archive marker
    if (isZeroBlock(block)) return;
    let raw;
    try {
      raw = decodeHeader(block);
    } catch (err) {
      throw new KilnError("BAD_LAYER", `layer tar: ${(err as Error).message}`, { cause: err });
    }
    const tf = raw.typeflag;
    if (tf === "x" || tf === "g" || tf === "L" || tf === "K") {
      if (raw.size > MAX_META) throw new KilnError("HOSTILE_LAYER", `layer tar: ${raw.size}-byte metadata header for "${raw.name}"`);
      const data = (await r.read(raw.size + padding(raw.size))) ?? Buffer.alloc(0);
      const payload = data.subarray(0, raw.size);
      if (tf === "x") pax = decodePax(payload);
      // 'g' (global PAX) only sets defaults such as comments; layers from
      // docker/buildkit never rely on it, so it is read and ignored.
      else if (tf === "L") longName = cString(payload);
      else if (tf === "K") longLink = cString(payload);
      continue;
    }
    const type = TYPES[tf];
    if (type === undefined) throw new KilnError("BAD_LAYER", `layer tar: unsupported entry type '${tf}' for "${raw.name}"`);
    const header: TarEntry = {
      name: longName ?? raw.name,
      type,
      mode: raw.mode & 0o7777,
      uid: raw.uid,
      gid: raw.gid,
      mtime: raw.mtime,
      size: type === "file" ? raw.size : 0,
      linkname: longLink ?? raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
    };
    if (pax) applyPax(header, pax);
    if (type === "directory") header.name = header.name.replace(/\/+$/, "") || "/";
    pax = null;
    longName = null;
    longLink = null;
    // Hardlinks, symlinks etc. may carry a size field; their data (if any) is skipped.
    const dataSize = type === "file" ? header.size : raw.size;
    let remaining = dataSize;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (type === "file" && remaining > 0) {
          const chunk = await r.readSome(Math.min(remaining, 1 << 20));
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    yield { header, body };
    await r.skip(remaining + padding(dataSize));
  }
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("utf8", 0, nul < 0 ? b.length : nul);
}

function applyPax(h: TarEntry, pax: Map<string, Buffer>): void {
  for (const [k, v] of pax) {
    switch (k) {
      case "path":
        h.name = v.toString("utf8");
        break;
      case "linkpath":
        h.linkname = v.toString("utf8");
        break;
      case "size":
        if (h.type === "file") h.size = parseDecimal(k, v);
        break;
      case "uid":
        h.uid = parseDecimal(k, v);
        break;
      case "gid":
        h.gid = parseDecimal(k, v);
        break;
      case "mtime":
        h.mtime = Math.floor(Number(v.toString("ascii")));
        break;
      default:
        if (k.startsWith("SCHILY.xattr.")) {
          h.xattrs ??= new Map();
          h.xattrs.set(k.slice("SCHILY.xattr.".length), v);
        }
    }
  }
}

function parseDecimal(key: string, v: Buffer): number {
  const s = v.toString("ascii");
  if (!/^\d+$/.test(s)) throw new KilnError("BAD_LAYER", `layer tar: bad PAX ${key}="${s}"`);
  return Number(s);
}
