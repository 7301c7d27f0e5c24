// The content a COPY/ADD reads: exactly the selected files (after
// .dockerignore and wildcards), each as path, type, permission bits,
// uid/gid and bytes (or link target) — never mtimes, so a fresh checkout or
// a `touch` does not miss. Files are hashed streaming, a few at a time, and
// the stat memo spares re-reading files that did not change.
import { createHash } from "node:crypto";
import { createReadStream, type BigIntStats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import type { SelectedSource } from "../context/select-sources.js";
import type { StatMemo } from "./stat-memo.js";

export interface ContentDigest {
  readonly digest: string;
  /** Context path -> a short fingerprint, kept to explain a miss. */
  readonly files: Record<string, string>;
}

const PARALLEL = 4;

async function hashFile(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

export async function digestSources(selected: readonly SelectedSource[], ignore: IgnoreMatcher, memo: StatMemo): Promise<ContentDigest> {
  const entries: { rel: string; host: string; st: BigIntStats }[] = [];
  const walk = async (host: string, rel: string): Promise<void> => {
    const st = await lstat(host, { bigint: true });
    entries.push({ rel, host, st });
    if (!st.isDirectory()) return;
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
    while (next < entries.length) {
      const i = next++;
      const { rel, host, st } = entries[i]!;
      const perm = (Number(st.mode) & 0o7777).toString(8);
      let what: string;
      if (st.isDirectory()) what = "dir";
      else if (st.isSymbolicLink()) what = `link:${await readlink(host)}`;
      else if (st.isFile()) {
        let d = memo.lookup(host, st);
        if (d === undefined) {
          // Taken before reading: a write during the read makes the entry racy.
          const takenNs = BigInt(Date.now()) * 1_000_000n;
          d = await hashFile(host);
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
