// A running build's claim on what it uses: the snapshot chains it builds on
// (and, by its start time, everything it creates). Garbage collection keeps
// every chain a live lease names and anything newer than the oldest live
// lease, so a prune never pulls a layer from under a build. A lease of a
// dead process is ignored.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Digest } from "../oci/digest.js";
import type { StorePaths } from "./root.js";

export const GC_LOCK = "gc.lock";

interface LeaseData {
  readonly pid: number;
  readonly startedMs: number;
  readonly chains: Digest[];
}

export class Lease {
  readonly #file: string;
  readonly #data: LeaseData;

  private constructor(file: string, data: LeaseData) {
    this.#file = file;
    this.#data = data;
  }

  static async open(paths: StorePaths): Promise<Lease> {
    mkdirSync(paths.locks, { recursive: true });
    const file = path.join(paths.locks, `lease-${process.pid}-${randomBytes(4).toString("hex")}.json`);
    // A second of margin: files this build creates are never older than its lease.
    const lease = new Lease(file, { pid: process.pid, startedMs: Date.now() - 1000, chains: [] });
    lease.#write();
    return lease;
  }

  /** Call under the GC lock, in the same critical section that checked the chains exist. */
  async add(chains: readonly Digest[]): Promise<void> {
    const fresh = chains.filter((c) => !this.#data.chains.includes(c));
    if (fresh.length === 0) return;
    // On disk first: if the write fails, the chains are not taken as leased.
    this.#write({ ...this.#data, chains: [...this.#data.chains, ...fresh] });
    this.#data.chains.push(...fresh);
  }

  async release(): Promise<void> {
    try {
      unlinkSync(this.#file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  // Atomic (temp + rename) but not fsynced: a lease only matters while its
  // process lives, and after a crash its dead pid voids it anyway.
  // Synchronous: a few hundred bytes in the local store, written once per
  // cached step inside the GC lock, where each fs.promises call would be a
  // thread-pool round trip with the lock held. The file is complete and in
  // place before add() returns, so before the caller drops the GC lock, as
  // before.
  #write(data: LeaseData = this.#data): void {
    const tmp = `${this.#file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(data));
      renameSync(tmp, this.#file);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // not created
      }
      throw e;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function liveLeases(paths: StorePaths): Promise<LeaseData[]> {
  const out: LeaseData[] = [];
  for (const name of await readdir(paths.locks).catch(() => [] as string[])) {
    if (!/^lease-.*\.json$/.test(name)) continue;
    try {
      const d = JSON.parse(await readFile(path.join(paths.locks, name), "utf8")) as LeaseData;
      if (alive(d.pid)) out.push(d);
      else await rm(path.join(paths.locks, name), { force: true });
    } catch {
      // being written or removed
    }
  }
  return out;
}
