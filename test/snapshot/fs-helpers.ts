// Test helpers: temp dirs and an exact metadata listing of a tree, so two
// trees can be compared field by field (type, mode, owner, mtime, content,
// link target, device numbers, hardlink groups, xattrs).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `kiln-test-${prefix}-`));
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

/** xattrs of one path (not following symlinks), as name=0xhex lines. */
export function xattrsOf(p: string): Record<string, string> {
  const out = execFileSync("getfattr", ["-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", p], { encoding: "utf8" });
  const r: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const eq = line.indexOf("=");
    if (line.startsWith("#") || eq < 0) continue;
    r[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return r;
}

export interface Meta {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  content?: string;
  link?: string;
  rdev?: string;
  /** First path (sorted) sharing this inode, for hardlinks. */
  inodeGroup?: string;
  xattrs: Record<string, string>;
}

export function treeMeta(root: string, opts: { skipXattr?: (name: string) => boolean } = {}): Record<string, Meta> {
  const out: Record<string, Meta> = {};
  const inodes = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const n of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = path.join(root, r);
      const st = lstatSync(abs);
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : st.isCharacterDevice() ? "char" : st.isBlockDevice() ? "block" : "other";
      const xa = xattrsOf(abs);
      for (const k of Object.keys(xa)) if (opts.skipXattr?.(k)) delete xa[k];
      const m: Meta = { type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), xattrs: xa };
      if (type === "file") m.content = createHash("sha256").update(readFileSync(abs)).digest("hex");
      if (type === "symlink") m.link = readlinkSync(abs);
      if (type === "char" || type === "block") m.rdev = String(st.rdev);
      if (type !== "dir" && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (!inodes.has(key)) inodes.set(key, r);
        m.inodeGroup = inodes.get(key)!;
      }
      out[r] = m;
      if (type === "dir") walk(r);
    }
  };
  walk("");
  return out;
}
