// Tar header encoding and decoding (ustar + PAX), written here rather than
// taken from tar-stream because layer xattrs (security.capability) are
// binary: PAX record values are raw bytes, and tar-stream turns them into
// UTF-8 strings in both directions, which corrupts any byte >= 0x80.
// Everything here works on Buffers so those bytes survive a round trip.

export const BLOCK = 512;

export type TarEntryType = "file" | "link" | "symlink" | "char" | "block" | "directory" | "fifo";

export interface TarEntry {
  /** Relative path, no leading "./" or "/"; directories without the trailing slash. */
  name: string;
  type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  size: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (name → raw value), carried as SCHILY.xattr.* PAX records. */
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30, // '0'
  link: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  directory: 0x35,
  fifo: 0x36,
};

const MAX_OCTAL_8 = 0o7777777; // 7 octal digits fit the 8-byte uid/gid/mode fields
const MAX_OCTAL_12 = 0o77777777777; // 11 digits: size/mtime fields

/** Bytes of padding needed after `size` bytes of content. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

/** Splits a long name into ustar prefix/name, or null when it cannot be done. */
function splitUstarName(name: string): { prefix: string; name: string } | null {
  if (name.length <= 100) return { prefix: "", name };
  // The prefix must end at a slash and be at most 155 bytes; the rest ≤ 100.
  for (let i = Math.min(name.length - 1, 155); i > 0; i--) {
    if (name[i] === "/" && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.slice(0, i), name: name.slice(i + 1) };
    }
  }
  return null;
}

function writeOctal(buf: Buffer, value: number, off: number, len: number): void {
  // len-1 digits, zero padded, NUL terminated (what GNU tar and Go write).
  buf.write(value.toString(8).padStart(len - 1, "0"), off, len - 1, "ascii");
  buf[off + len - 1] = 0;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "%d %s=%s\n" where %d counts the whole record including itself.
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), "ascii"), body]);
}

function ustarBlock(
  name: string,
  prefix: string,
  e: { mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: number; linkname: string; devmajor: number; devminor: number },
): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, "utf8");
  writeOctal(b, e.mode, 100, 8);
  writeOctal(b, e.uid, 108, 8);
  writeOctal(b, e.gid, 116, 8);
  writeOctal(b, e.size, 124, 12);
  writeOctal(b, e.mtime, 136, 12);
  b.fill(0x20, 148, 156); // checksum is computed with this field as spaces
  b[156] = e.typeflag;
  b.write(e.linkname, 157, 100, "utf8");
  b.write("ustar\u000000", 257, 8, "ascii");
  writeOctal(b, e.devmajor, 329, 8);
  writeOctal(b, e.devminor, 337, 8);
  b.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/**
 * The header block(s) for one entry: a PAX extended header first when a
 * field does not fit ustar (long or non-ASCII names, big ids or sizes) or
 * the entry has xattrs. Deterministic: PAX records are in sorted key order.
 */
export function encodeHeader(e: TarEntry): Buffer {
  const fullName = e.type === "directory" ? `${e.name}/` : e.name;
  const linkname = e.linkname ?? "";
  const pax: [string, Buffer][] = [];
  let split = isAscii(fullName) ? splitUstarName(fullName) : null;
  if (split === null) {
    pax.push(["path", Buffer.from(fullName, "utf8")]);
    split = { prefix: "", name: asciiTruncate(fullName, 100) };
  }
  let ustarLink = linkname;
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) {
    pax.push(["linkpath", Buffer.from(linkname, "utf8")]);
    ustarLink = asciiTruncate(linkname, 100);
  }
  let uid = e.uid;
  let gid = e.gid;
  let size = e.size;
  if (uid > MAX_OCTAL_8) {
    pax.push(["uid", Buffer.from(String(uid))]);
    uid = 0;
  }
  if (gid > MAX_OCTAL_8) {
    pax.push(["gid", Buffer.from(String(gid))]);
    gid = 0;
  }
  if (size > MAX_OCTAL_12) {
    pax.push(["size", Buffer.from(String(size))]);
    size = 0;
  }
  if (e.xattrs) {
    for (const [k, v] of e.xattrs) pax.push([`SCHILY.xattr.${k}`, v]);
  }
  const main = ustarBlock(split.name, split.prefix, {
    mode: e.mode & 0o7777,
    uid,
    gid,
    size,
    mtime: Math.min(Math.max(0, Math.floor(e.mtime)), MAX_OCTAL_12),
    typeflag: TYPEFLAG[e.type],
    linkname: ustarLink,
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  });
  if (pax.length === 0) return main;
  pax.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const data = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  // Header name like Go's archive/tar: dir/PaxHeaders.0/base.
  const slash = e.name.lastIndexOf("/");
  const paxName = asciiTruncate(
    slash < 0 ? `PaxHeaders.0/${e.name}` : `${e.name.slice(0, slash)}/PaxHeaders.0/${e.name.slice(slash + 1)}`,
    100,
  );
  const paxHead = ustarBlock(paxName, "", {
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    typeflag: 0x78, // 'x'
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHead, data, Buffer.alloc(padding(data.length)), main]);
}

function asciiTruncate(s: string, n: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x01-\x7f]/g, "_").slice(0, n);
}

// ---- decoding ----

export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** The typeflag character ('0', '5', 'x', 'L', ...); NUL is reported as '0'. */
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function readString(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end < 0 || end > off + len ? off + len : end);
}

function readNumber(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // GNU base-256: big-endian, first byte's high bit is the marker.
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = b.toString("ascii", off, off + len).replace(/[\0 ]+$/g, "").trim();
  if (s === "") return 0;
  const v = parseInt(s, 8);
  if (!Number.isFinite(v)) throw new Error(`bad octal field "${s}"`);
  return v;
}

export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decodes one 512-byte header block; throws on a bad checksum. */
export function decodeHeader(b: Buffer): RawHeader {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  const stored = readNumber(b, 148, 8);
  if (stored !== sum) throw new Error("tar header checksum mismatch");
  let name = readString(b, 0, 100);
  const magic = b.toString("ascii", 257, 263);
  if (magic === "ustar\u0000") {
    const prefix = readString(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const tf = b[156]!;
  return {
    name,
    mode: readNumber(b, 100, 8),
    uid: readNumber(b, 108, 8),
    gid: readNumber(b, 116, 8),
    size: readNumber(b, 124, 12),
    mtime: readNumber(b, 136, 12),
    typeflag: tf === 0 ? "0" : String.fromCharCode(tf),
    linkname: readString(b, 157, 100),
    devmajor: readNumber(b, 329, 8),
    devminor: readNumber(b, 337, 8),
  };
}

/** Parses PAX records, keeping values as raw bytes. */
export function decodePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(data.toString("ascii", off, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > data.length) throw new Error("bad PAX record length");
    const rec = data.subarray(sp + 1, off + len - 1); // drop the trailing "\n"
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new Error("bad PAX record");
    out.set(rec.toString("utf8", 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}
