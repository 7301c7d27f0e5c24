// Extracted layers, one directory per chainID: snapshots/<id>/{fs,meta.json}.
// `fs` is in overlay form (whiteouts as 0/0 devices, opaque xattrs) so a
// chain of them is directly an overlay lowerdir list. Ids are 16 hex digits
// of the chainID: short names keep `lowerdir=` under the kernel's one-page
// limit for ~190 layers (docker itself stops at 125), and 64 bits is enough
// to never collide in one store.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { type Digest, digestHex, parseDigest } from "../oci/digest.js";
import { fsyncDir, writeFileDurable } from "./durable-file.js";

/** A committed snapshot as an image's layer list holds it: its diffID and the chainID it is stored under. */
export interface LayerRecord {
  readonly diffId: Digest;
  readonly chainId: Digest;
}

export interface SnapshotMeta {
  readonly chainId: Digest;
  readonly diffId: Digest;
  readonly parent: Digest | null;
}

export function chainIdOf(parent: Digest | null, diffId: Digest): Digest {
  if (parent === null) return diffId;
  return parseDigest(`sha256:${createHash("sha256").update(`${parent} ${diffId}`).digest("hex")}`);
}

export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  let parent: Digest | null = null;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    out.push(parent);
  }
  return out;
}

export class SnapshotIndex {
  constructor(readonly dir: string) {}

  idOf(chainId: Digest): string {
    return digestHex(chainId).slice(0, 16);
  }

  /** The overlay-form content directory of a committed snapshot. */
  fsPath(chainId: Digest): string {
    return path.join(this.dir, this.idOf(chainId), "fs");
  }

  // meta.json is ~250 bytes, read under the GC lock once per cached step (and
  // per base layer): synchronously, one open/read/close instead of four
  // thread-pool round trips with the lock held.
  async get(chainId: Digest): Promise<SnapshotMeta | undefined> {
    try {
      const meta = JSON.parse(readFileSync(path.join(this.dir, this.idOf(chainId), "meta.json"), "utf8")) as SnapshotMeta;
      return meta.chainId === chainId ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A fresh directory (inside the snapshots folder, so commit is a rename) to
   * fill. Its `fs` is the root directory of whatever is mounted over it
   * (an overlay's merged root takes the upper dir's mode and owner; a
   * read-only view takes the topmost lower's), so it starts as 0755 root:root
   * like containerd's snapshots, never the 0700 of the private folder around
   * it. chmod, not mkdir's mode: the umask would cut it.
   */
  async prepare(): Promise<string> {
    const dir = path.join(this.dir, `.new-${process.pid}-${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await mkdir(path.join(dir, "fs"));
    await chmod(path.join(dir, "fs"), 0o755);
    return dir;
  }

  /**
   * Commits a prepared directory whose `fs` holds the layer. If another build
   * committed the same chain first, ours is dropped: same chain, same bytes.
   */
  async commit(prepared: string, meta: SnapshotMeta): Promise<string> {
    await writeFileDurable(path.join(prepared, "meta.json"), JSON.stringify(meta));
    const final = path.join(this.dir, this.idOf(meta.chainId));
    try {
      await rename(prepared, final);
      await fsyncDir(this.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await rm(prepared, { recursive: true, force: true });
    }
    return path.join(final, "fs");
  }

  async discard(prepared: string): Promise<void> {
    await rm(prepared, { recursive: true, force: true });
  }

  /** Lower dirs for an overlay over the chain, topmost first. */
  lowerDirs(chain: readonly Digest[]): string[] {
    return chain.map((c) => this.fsPath(c)).reverse();
  }
}
