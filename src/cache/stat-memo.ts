// Remembers file digests by stat so unchanged files are not re-read. The
// trap (moby/buildkit#4950): a file rewritten with the same size inside the
// filesystem's timestamp granularity keeps its stat, so a memo taken just
// before the rewrite would be trusted. As git does for its index ("racy
// git"), an entry is trusted only if the file's ctime is safely older than
// the moment the memo was taken; a racily recent file is hashed again.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** The stat fields the memo compares (a BigIntStats fits). */
export interface FileStat {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

interface MemoEntry {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly digest: string;
  /** When this digest was computed (ns since epoch). */
  readonly takenNs: string;
}

// Coarse kernel clocks tick every few ms; one second covers every filesystem kiln runs on.
const RACY_MARGIN_NS = 1_000_000_000n;

export class StatMemo {
  #entries = new Map<string, MemoEntry>();
  #dirty = false;

  private constructor(readonly file: string) {}

  static async load(file: string): Promise<StatMemo> {
    const m = new StatMemo(file);
    try {
      // Read once per build, before any step: synchronously (one
      // open/read/close) rather than as four thread-pool round trips.
      const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, MemoEntry>;
      for (const [k, v] of Object.entries(data)) m.#entries.set(k, v);
    } catch {
      // no memo yet, or unreadable: start empty
    }
    return m;
  }

  lookup(path: string, st: FileStat): string | undefined {
    const e = this.#entries.get(path);
    if (!e) return undefined;
    if (e.dev !== String(st.dev) || e.ino !== String(st.ino) || e.size !== String(st.size)) return undefined;
    if (e.mtimeNs !== String(st.mtimeNs) || e.ctimeNs !== String(st.ctimeNs)) return undefined;
    if (st.ctimeNs + RACY_MARGIN_NS >= BigInt(e.takenNs)) return undefined; // racily clean: re-hash
    return e.digest;
  }

  remember(path: string, st: FileStat, digest: string, takenNs: bigint): void {
    this.#entries.set(path, {
      dev: String(st.dev),
      ino: String(st.ino),
      size: String(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
      digest,
      takenNs: String(takenNs),
    });
    this.#dirty = true;
  }

  // Nothing is written when no digest was computed (a no-op rebuild). The
  // memo is advisory, so it is replaced atomically (temp + rename: readers
  // see the old memo or the new one) but not fsynced. After a power cut the
  // file is the old memo, the new one, or empty/garbage: unparsable means
  // "start empty" (load), and an old memo is still right, since every entry
  // is checked against the file's current dev/ino/size/mtime/ctime. The
  // worst a lost memo costs is hashing the context again.
  async save(tmpDir: string): Promise<void> {
    if (!this.#dirty) return;
    const tmp = path.join(tmpDir, `stat-memo.${process.pid}.${randomBytes(6).toString("hex")}`);
    try {
      await writeFile(tmp, JSON.stringify(Object.fromEntries(this.#entries)), { flag: "wx", mode: 0o644 });
      await rename(tmp, this.file);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    this.#dirty = false;
  }
}
