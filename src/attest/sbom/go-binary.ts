// Go executables carry the module list they were built from (what
// `go version -m` prints): a distroless image often has no go.mod and no
// package database, so this is the only record of what is in it.
//
// Layout (Go's cmd/link buildinfo writer and debug/buildinfo reader): a
// 16-byte-aligned blob, in the ELF section .go.buildinfo, starting with the
// 14-byte magic "\xff Go buildinf:", then the pointer size and a flags byte,
// padded to 32 bytes. Since Go 1.18 flag 0x2 means the two strings follow
// inline, each a uvarint length and its bytes: the Go version, then the
// module info framed by two 16-byte sentinels. Before 1.18 the header held
// pointers to those strings instead; such binaries are not read here (that
// would need virtual-address translation through the program headers for
// toolchains that stopped being supported in 2022).
//
// Only ELF is read: images are Linux. Cost matters more than anywhere else
// in the scan, since most files in an image are not Go programs: names and
// paths rule out most files before an lstat, exec bit and size most of the
// rest before an open, and an ELF that is opened costs three small reads
// (header, section header table, section name table), never a read of its
// code. On Debian's base (~7,000 files) that is ~1,300 lstats and 10 opens.
import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { golangPurl } from "./purl.js";
import type { SbomPackage } from "./types.js";

/**
 * Smaller than any Go program: the runtime alone makes an empty `main`
 * 750-960 KiB stripped (go1.19, every GOARCH), and it only grows. Most C
 * programs in a distro are smaller, so they are never opened.
 */
export const MIN_BINARY_BYTES = 256 * 1024;
/** Larger than any Go program an image ships; bounds the work a hostile image can ask for. */
export const MAX_BINARY_BYTES = 256 * 1024 * 1024;

/** A regular file with an exec bit whose size could be a Go program: the only files opened. */
export function mayBeGoBinary(st: Stats): boolean {
  return st.isFile() && (st.mode & 0o111) !== 0 && st.size >= MIN_BINARY_BYTES && st.size <= MAX_BINARY_BYTES;
}

/**
 * Extensions of formats that are never executables (compressed files,
 * translations, interpreted sources, dpkg's metadata, documents). An lstat
 * of every file made the scan of a Debian base (~7,000 files, two thirds of
 * them these) three times slower, so these are not looked at. Names without
 * an extension, or with one not listed (terraform-provider-x_v1.2.0_x5), are.
 */
const NOT_PROGRAM_EXTENSIONS = new Set(
  ("gz xz bz2 zst lz4 zip mo po pl pm ph pod py pyc rb js mjs cjs ts map json h c go txt md html " +
    "list md5sums triggers shlibs symbols conffiles templates conf yaml yml xml png svg").split(" "),
);

/**
 * Trees of one kind of data, large in a distro (the tz database alone is
 * 900 files in Debian's base) and never holding a program.
 */
const DATA_TREES = ["/usr/share/zoneinfo/", "/usr/share/doc/", "/usr/share/locale/", "/usr/share/man/", "/usr/share/i18n/"];

/** Whether a file's image path allows it to be a program, before paying for its lstat. */
export function mayBeProgramPath(imagePath: string): boolean {
  const base = imagePath.slice(imagePath.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot > 0 && NOT_PROGRAM_EXTENSIONS.has(base.slice(dot + 1))) return false;
  return !DATA_TREES.some((t) => imagePath.startsWith(t));
}

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const BLOB_ALIGN = 16;
const BLOB_HEADER = 32;
const FLAG_INLINE_STRINGS = 0x2;
/** Go's reader looks at no more than this of the data segment for the blob; reading more finds nothing it would. */
const DATA_SEARCH_BYTES = 64 * 1024;
/** Bounds on tables read from a file whose header we cannot trust. */
const MAX_TABLE_BYTES = 1024 * 1024;

// Gone since the walk, a symlink now (O_NOFOLLOW), or unreadable to us.
const SKIPPED_ERRORS = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EACCES", "EPERM"]);

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const SHN_XINDEX = 0xffff;

/** The two strings the Go linker stores; `modinfo` has its sentinels removed, and is "" when built outside module mode. */
export interface GoBuildInfo {
  goVersion: string;
  modinfo: string;
}

export interface GoModuleVersion {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModuleVersion;
}

export interface GoModInfo {
  /** The main package's import path (`path` line). */
  path?: string;
  /** The module holding the main package (`mod` line); absent for a binary built from the standard library or a GOPATH tree. */
  main?: GoModuleVersion;
  deps: GoModuleVersion[];
}

/** Reads `len` bytes at `pos`, or fewer at the end of the file; an offset past the end gives an empty buffer. */
async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

interface Elf {
  is64: boolean;
  u16(b: Buffer, off: number): number;
  u32(b: Buffer, off: number): number;
  /** An address-sized field (4 or 8 bytes); values past 2^53 come back as Infinity, which every bound check then refuses. */
  word(b: Buffer, off: number): number;
}

function elfReader(ident: Buffer): Elf | undefined {
  const cls = ident[4];
  const data = ident[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const le = data === 1;
  const u16 = (b: Buffer, off: number): number => (le ? b.readUInt16LE(off) : b.readUInt16BE(off));
  const u32 = (b: Buffer, off: number): number => (le ? b.readUInt32LE(off) : b.readUInt32BE(off));
  const u64 = (b: Buffer, off: number): number => {
    const v = le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  };
  const is64 = cls === 2;
  return { is64, u16, u32, word: is64 ? u64 : u32 };
}

/** Where a range of the file is, if it is sane to read. */
function fileRange(offset: number, size: number, fileSize: number, cap: number): { offset: number; size: number } | undefined {
  if (offset <= 0 || size <= 0 || offset >= fileSize) return undefined;
  return { offset, size: Math.min(size, fileSize - offset, cap) };
}

/**
 * The file bytes that hold the build info blob: the .go.buildinfo section
 * when there is a section header table; without one (stripped by sstrip or
 * similar) the start of the first writable, non-executable PT_LOAD segment,
 * where the Go linker puts that section first and where Go's own reader
 * looks. Scanning the file's first MiBs instead would miss it: the data
 * segment comes after the code, 10 MiB into the go command itself.
 */
async function buildInfoRegion(fh: FileHandle, fileSize: number): Promise<Buffer | undefined> {
  const hdr = await readAt(fh, 0, 64);
  if (hdr.length < 52 || hdr.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const elf = elfReader(hdr);
  if (!elf || (elf.is64 && hdr.length < 64)) return undefined;
  const { is64, u16, u32, word } = elf;
  const phoff = word(hdr, is64 ? 0x20 : 0x1c);
  const shoff = word(hdr, is64 ? 0x28 : 0x20);
  const phentsize = u16(hdr, is64 ? 0x36 : 0x2a);
  let phnum = u16(hdr, is64 ? 0x38 : 0x2c);
  const shentsize = u16(hdr, is64 ? 0x3a : 0x2e);
  let shnum = u16(hdr, is64 ? 0x3c : 0x30);
  let shstrndx = u16(hdr, is64 ? 0x3e : 0x32);
  const shMin = is64 ? 0x40 : 0x28;
  const phMin = is64 ? 0x38 : 0x20;

  if (shoff !== 0 && shentsize >= shMin) {
    // Extended numbering (ELF gABI): with 0xff00 or more sections, the real
    // count and name-table index live in section 0's sh_size and sh_link.
    if (shnum === 0 || shstrndx === SHN_XINDEX) {
      const s0 = await readAt(fh, shoff, shentsize);
      if (s0.length < shMin) return undefined;
      if (shnum === 0) shnum = word(s0, is64 ? 0x20 : 0x14);
      if (shstrndx === SHN_XINDEX) shstrndx = u32(s0, is64 ? 0x28 : 0x18);
    }
    const table = fileRange(shoff, shnum * shentsize, fileSize, MAX_TABLE_BYTES);
    if (!table) return undefined;
    const sh = await readAt(fh, table.offset, table.size);
    const count = Math.floor(sh.length / shentsize);
    const section = (i: number): { name: number; offset: number; size: number } => {
      const b = i * shentsize;
      return { name: u32(sh, b), offset: word(sh, b + (is64 ? 0x18 : 0x10)), size: word(sh, b + (is64 ? 0x20 : 0x14)) };
    };
    if (shstrndx >= count) return undefined;
    const strtab = section(shstrndx);
    const names = fileRange(strtab.offset, strtab.size, fileSize, MAX_TABLE_BYTES);
    if (!names) return undefined;
    const strs = await readAt(fh, names.offset, names.size);
    const want = Buffer.from(".go.buildinfo\0", "latin1");
    for (let i = 0; i < count; i++) {
      const s = section(i);
      if (s.name + want.length > strs.length || !strs.subarray(s.name, s.name + want.length).equals(want)) continue;
      const r = fileRange(s.offset, s.size, fileSize, MAX_TABLE_BYTES);
      return r && (await readAt(fh, r.offset, r.size));
    }
    // A section table without .go.buildinfo: not a Go 1.13+ program. No fallback: this is every C binary.
    return undefined;
  }

  if (phoff === 0 || phentsize < phMin) return undefined;
  if (phnum === 0xffff) return undefined; // PN_XNUM: more segments than any executable has
  const table = fileRange(phoff, phnum * phentsize, fileSize, MAX_TABLE_BYTES);
  if (!table) return undefined;
  const ph = await readAt(fh, table.offset, table.size);
  phnum = Math.floor(ph.length / phentsize);
  for (let i = 0; i < phnum; i++) {
    const b = i * phentsize;
    const type = u32(ph, b);
    const flags = u32(ph, b + (is64 ? 0x04 : 0x18));
    if (type !== PT_LOAD || (flags & (PF_X | PF_W)) !== PF_W) continue;
    const r = fileRange(word(ph, b + (is64 ? 0x08 : 0x04)), word(ph, b + (is64 ? 0x20 : 0x10)), fileSize, DATA_SEARCH_BYTES);
    return r && (await readAt(fh, r.offset, r.size));
  }
  return undefined;
}

/** A uvarint-prefixed string (encoding/binary); undefined when the length runs past the data. */
function inlineString(data: Buffer, at: number): { value: Buffer; next: number } | undefined {
  let len = 0;
  let scale = 1;
  for (let i = at; i < data.length && i < at + 10; i++) {
    const byte = data[i]!;
    len += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) {
      const start = i + 1;
      if (len > data.length - start) return undefined;
      return { value: data.subarray(start, start + len), next: start + len };
    }
  }
  return undefined;
}

/** The blob in a region of the file: found at a 16-byte boundary of the region, like the linker aligns it. */
function decodeBuildInfoBlob(region: Buffer): GoBuildInfo | undefined {
  let at = region.indexOf(MAGIC);
  while (at >= 0 && at % BLOB_ALIGN !== 0) at = region.indexOf(MAGIC, at + 1);
  if (at < 0 || region.length - at < BLOB_HEADER) return undefined;
  const flags = region[at + 15]!;
  if ((flags & FLAG_INLINE_STRINGS) === 0) return undefined; // pre-1.18 pointer form, see above
  const vers = inlineString(region, at + BLOB_HEADER);
  if (!vers || vers.value.length === 0) return undefined;
  const mod = inlineString(region, vers.next);
  if (!mod) return undefined;
  // The sentinels are 16 bytes each, and the text between them ends with a newline;
  // anything else is not module info (Go's reader makes the same check).
  let modinfo = "";
  const m = mod.value;
  if (m.length >= 33 && m[m.length - 17] === 0x0a) modinfo = m.subarray(16, m.length - 16).toString("utf8");
  return { goVersion: vers.value.toString("utf8"), modinfo };
}

/**
 * The `path`, `mod`, `dep` and `=>` lines (runtime/debug.BuildInfo's text
 * form); `build` settings are not needed here. Undefined when a module line
 * is malformed: Go's own parser rejects the whole text then, and a half-read
 * list would look complete.
 */
export function parseModinfo(text: string): GoModInfo | undefined {
  const info: GoModInfo = { deps: [] };
  let last: GoModuleVersion | undefined;
  const lines = text.split("\n");
  lines.pop(); // Text after the last newline is not a line (Go stops there too).
  for (const line of lines) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const word = line.slice(0, tab);
    const rest = line.slice(tab + 1);
    if (word === "path") {
      info.path = rest;
    } else if (word === "mod" || word === "dep") {
      const cols = rest.split("\t");
      if (cols.length !== 2 && cols.length !== 3) return undefined;
      last = { path: cols[0]!, version: cols[1]! };
      if (cols[2]) last.sum = cols[2];
      if (word === "mod") info.main = last;
      else info.deps.push(last);
    } else if (word === "=>") {
      const cols = rest.split("\t");
      if (cols.length !== 3 || !last) return undefined;
      last.replace = { path: cols[0]!, version: cols[1]! };
      if (cols[2]) last.replace.sum = cols[2];
      last = undefined;
    }
  }
  return info;
}

/** The build info of the ELF file open as `fh`, or undefined when it is not a Go 1.18+ program. */
export async function readGoBuildInfo(fh: FileHandle, fileSize: number): Promise<GoBuildInfo | undefined> {
  const region = await buildInfoRegion(fh, fileSize);
  return region && decodeBuildInfoBlob(region);
}

/**
 * A replacement by a directory (`=> ./lib`, `=> /src/fork`, or a Windows
 * path from a cross-build) is the project's own code, not a module version:
 * left out, as go.mod's local replaces are (golang.ts).
 */
function isLocalPath(p: string): boolean {
  return p.startsWith("./") || p.startsWith("../") || p.startsWith("/") || p.includes("\\") || /^[A-Za-z]:/.test(p) || p === "." || p === "..";
}

/**
 * The modules a binary was built from, as packages: the main module and
 * each dependency, with a replacement standing in for what it replaced
 * (its code is what was compiled). "(devel)" is the go command's word for
 * "no version": a build from a working tree, the usual way a main module
 * is built; it is not a version anything could match, so the package has
 * an empty version and a purl without one.
 */
function goModulePackages(info: GoModInfo, foundIn: string): SbomPackage[] {
  const out: SbomPackage[] = [];
  for (const m of [...(info.main ? [info.main] : []), ...info.deps]) {
    const used = m.replace ?? m;
    if (isLocalPath(used.path) || used.path === "") continue;
    const version = used.version === "(devel)" ? "" : used.version;
    out.push({ name: used.path, version, type: "golang", purl: golangPurl(used.path, version), foundIn });
  }
  return out;
}

/**
 * The standard library the binary was compiled with, as syft and grype name
 * it (`pkg:golang/stdlib@1.21.5`): most Go vulnerabilities are in it, and
 * a binary carries its Go version even when it has no module list (Debian's
 * GOPATH-mode builds). "go1.21.5 X:boringcrypto" keeps only the release.
 */
function stdlibPackage(goVersion: string, foundIn: string): SbomPackage[] {
  const m = /^go(\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)/.exec(goVersion);
  if (!m) return [];
  return [{ name: "stdlib", version: m[1]!, type: "golang", purl: golangPurl("stdlib", m[1]!), foundIn }];
}

/**
 * The packages in the Go binary at `imagePath`, read from the host file
 * the walk found (`hostPath`, inside the root). Anything unreadable or not
 * Go gives no packages: a file the walk lists is not a promise of anything.
 * O_NOFOLLOW, and the checks made again on the open file: the walk saw a
 * regular file, but if a symlink or a FIFO has replaced it since, it is
 * neither followed out of the root nor waited on.
 */
export async function scanGoBinary(hostPath: string, imagePath: string): Promise<SbomPackage[]> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!mayBeGoBinary(st)) return [];
    const bi = await readGoBuildInfo(fh, st.size);
    if (!bi) return [];
    const info = parseModinfo(bi.modinfo);
    return [...(info ? goModulePackages(info, imagePath) : []), ...stdlibPackage(bi.goVersion, imagePath)];
  } catch (err) {
    if (SKIPPED_ERRORS.has((err as NodeJS.ErrnoException).code ?? "")) return [];
    throw err;
  } finally {
    await fh?.close();
  }
}
