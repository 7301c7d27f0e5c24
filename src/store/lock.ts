// The store lock: serialises read-modify-write of index.json (and anything
// else that must not interleave) across processes. A lock is a file created
// exclusively holding "<pid>\n<token>\n"; waiters retry with jittered
// backoff, and a lock whose pid no longer exists (a crashed kiln) is broken.
// Within one process, callers queue on a promise chain first so they do not
// spin on their own pid's lock file.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KilnError } from "../util/errors.js";
import { storePaths } from "./root.js";

export interface LockOptions {
  /** Give up after this long (default 120 s). */
  readonly timeoutMs?: number;
  /** Lock file name under locks/ (default "store.lock"). */
  readonly name?: string;
}

const inProcess = new Map<string, Promise<unknown>>();

export async function withStoreLock<T>(root: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const file = join(storePaths(root).locks, opts.name ?? "store.lock");
  const prev = inProcess.get(file) ?? Promise.resolve();
  const run = prev.catch(() => {}).then(async () => {
    const token = await acquire(file, opts.timeoutMs ?? 120_000);
    try {
      return await fn();
    } finally {
      await release(file, token);
    }
  });
  const tail = run.catch(() => {});
  inProcess.set(file, tail);
  void tail.then(() => {
    if (inProcess.get(file) === tail) inProcess.delete(file);
  });
  return run;
}

async function acquire(file: string, timeoutMs: number): Promise<string> {
  const token = `${process.pid}\n${randomBytes(8).toString("hex")}\n`;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    // The lock appears with its content in one step (link(2) of a written
    // temp file), so no reader ever sees an empty lock of unknown owner.
    const tmp = `${file}.new.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      await writeFile(tmp, token, { flag: "wx", mode: 0o644 });
      await link(tmp, file);
      return token;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        await mkdir(dirname(file), { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw e;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    const held = await readFile(file, "utf8").catch(() => undefined);
    if (held === undefined) continue; // released between open and read
    const pid = Number.parseInt(held, 10);
    if (!isAlive(pid)) {
      await breakStale(file, held);
      continue;
    }
    if (Date.now() > deadline) {
      throw new KilnError("STORE_LOCKED", `the kiln store is locked by process ${pid} (${file})`, {
        hint: "another kiln is using this store; wait for it, or remove the lock file if that process is not kiln",
      });
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// Move the stale lock aside atomically; only one breaker wins the rename. If
// what we moved is not the stale lock we read (someone broke it and took the
// lock in between), put it back with link(2), which never clobbers.
async function breakStale(file: string, staleContent: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, "utf8").catch(() => staleContent);
  if (moved !== staleContent) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function release(file: string, token: string): Promise<void> {
  // Only remove the lock if it is still ours (it could have been broken by a
  // process that wrongly judged us dead, e.g. across pid namespaces).
  const held = await readFile(file, "utf8").catch(() => undefined);
  if (held === token) await unlink(file).catch(() => {});
}
