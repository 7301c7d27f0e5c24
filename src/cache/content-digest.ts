// The content a COPY/ADD reads: exactly the selected files (after
// .dockerignore and wildcards), each as path, type, permission bits,
// uid/gid and bytes (or link target) — never mtimes, so a fresh checkout or
// a `touch` does not miss. Files are hashed streaming, a few at a time, and
// the stat memo spares re-reading files that did not change.
import { createHash } from "node:crypto";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import type { SelectedSource } from "../context/select-sources.js";
import type { FileStat, StatMemo } from "./stat-memo.js";

interface EntryStat extends FileStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly kind: "dir" | "link" | "file" | "other";
}

export interface ContentDigest {
  readonly digest: string;
  /** Context path -> a short fingerprint, kept to explain a miss. */
  readonly files: Record<string, string>;
}

const PARALLEL = 8;
const CHUNK = 1 << 20;

// Each worker reads into its own reused buffer: a stream per file cost
// several event-loop round trips (hashing many small files ran at 83 MB/s),
// and a fresh buffer per file let garbage pile past the RSS budget.
export async function hashFile(file: string, buf: Buffer): Promise<string> {
  const h = createHash("sha256");
  const fh = await open(file, "r");
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}

export async function digestSources(selected: readonly SelectedSource[], ignore: IgnoreMatcher, memo: StatMemo): Promise<ContentDigest> {
  const entries: { rel: string; host: string; st: EntryStat }[] = [];
  const walk = async (host: string, rel: string): Promise<void> => {
    const full = await lstat(host, { bigint: true });
    // Only what the digest and the memo need: a full BigIntStats per entry
    // is ~2.5 kB, which a 20,000-file context notices.
    const st: EntryStat = {
      dev: full.dev, ino: full.ino, size: full.size, mtimeNs: full.mtimeNs, ctimeNs: full.ctimeNs,
      mode: Number(full.mode), uid: Number(full.uid), gid: Number(full.gid),
      kind: full.isDirectory() ? "dir" : full.isSymbolicLink() ? "link" : full.isFile() ? "file" : "other",
    };
    entries.push({ rel, host, st });
    if (st.kind !== "dir") return;
    for (const name of (await readdir(host)).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const childHost = path.join(host, name);
      if (ignore.ignores(childRel)) {
        const cst = await lstat(childHost);
        if (!(cst.isDirectory() && ignore.mayIncludeUnder(childRel))) continue;
      }
      await walk(childHost, childRel);
    }
  };
  for (const s of selected) await walk(s.host, s.rel);

  const lines = new Array<string>(entries.length);
  const files: Record<string, string> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(CHUNK);
    while (next < entries.length) {
      const i = next++;
      const { rel, host, st } = entries[i]!;
      const perm = (st.mode & 0o7777).toString(8);
      let what: string;
      if (st.kind === "dir") what = "dir";
      else if (st.kind === "link") what = `link:${await readlink(host)}`;
      else if (st.kind === "file") {
        let d = memo.lookup(host, st);
        if (d === undefined) {
          // Taken before reading: a write during the read makes the entry racy.
          const takenNs = BigInt(Date.now()) * 1_000_000n;
          d = await hashFile(host, buf);
          memo.remember(host, st, d, takenNs);
        }
        what = `file:${d}`;
      } else what = "other";
      const fp = `${perm} ${st.uid}:${st.gid} ${what}`;
      files[rel] = fp;
      lines[i] = `${rel}\0${fp}`;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const h = createHash("sha256");
  for (const l of lines) {
    const b = Buffer.from(l);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return { digest: `sha256:${h.digest("hex")}`, files };
}
