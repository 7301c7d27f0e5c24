// `kiln cache prune`: drops build-cache records (all, older than --filter
// until=, or least recently used first until the cache fits --keep-storage),
// then collects what no ref, record or running build still reaches.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { chainIdOf, type SnapshotIndex } from "../store/snapshot-index.js";
import { collectGarbage, type GcResult } from "../store/gc.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import type { Store } from "../store/store.js";
import type { Digest } from "../oci/digest.js";
import type { StepRecords } from "./records.js";

export interface PruneOptions {
  readonly all?: boolean;
  /** Remove records not used for this long. */
  readonly olderThanMs?: number;
  /** Remove least recently used records until the cache's snapshots fit. */
  readonly keepBytes?: number;
}

export interface PruneResult extends GcResult {
  readonly records: number;
}

/** Sizes of snapshot directories by id, from one `du` run. */
export async function snapshotSizes(snapshots: SnapshotIndex): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = await new Promise<string>((resolve) => {
    const c = spawn("sh", ["-c", 'du -s -B1 -- */ 2>/dev/null || true'], { cwd: snapshots.dir, stdio: ["ignore", "pipe", "ignore"] });
    let s = "";
    c.stdout.on("data", (d: Buffer) => (s += d.toString()));
    c.on("close", () => resolve(s));
    c.on("error", () => resolve(""));
  });
  for (const line of text.split("\n")) {
    const m = /^(\d+)\s+(.+?)\/?$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

export async function pruneCache(store: Store, snapshots: SnapshotIndex, records: StepRecords, opts: PruneOptions): Promise<PruneResult> {
  return withStoreLock(
    store.root,
    async () => {
      const all = (await records.list()).sort((a, b) => a.mtimeMs - b.mtimeMs);
      const sizes = opts.keepBytes !== undefined ? await snapshotSizes(snapshots) : new Map<string, number>();
      const sizeOf = (r: (typeof all)[number]["record"]) =>
        r.diffId ? (sizes.get(snapshots.idOf(chainIdOf((r.inputs.chainId || null) as Digest | null, r.diffId))) ?? 0) : 0;
      let total = all.reduce((n, e) => n + sizeOf(e.record), 0);
      const now = Date.now();
      let removed = 0;
      for (const e of all) {
        const old = opts.olderThanMs !== undefined && now - e.mtimeMs > opts.olderThanMs;
        const over = opts.keepBytes !== undefined && total > opts.keepBytes;
        if (!(opts.all || old || over)) continue;
        await records.remove(e.record.key);
        total -= sizeOf(e.record);
        removed++;
      }
      // Remembered mount digests are tiny; --all clears them with the records.
      if (opts.all) await rm(records.mountDigestDir, { recursive: true, force: true });
      const gc = await collectGarbage(store, snapshots, records);
      return { records: removed, ...gc };
    },
    { name: GC_LOCK },
  );
}
