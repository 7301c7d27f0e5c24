// The store lock: serialises read-modify-write of index.json (and anything
// else that must not interleave) across processes. A lock is a file created
// exclusively holding "<pid>\n<token>\n"; waiters retry with jittered
// backoff, and a lock whose pid no longer exists (a crashed kiln) is broken.
// Within one process, callers queue on a promise chain first so they do not
// spin on their own pid's lock file.
//
// Taking and dropping a free lock uses synchronous calls: they are a handful
// of metadata syscalls on a ~30-byte file in the local store (tens of µs in
// all), where each fs.promises call is a round trip through libuv's thread
// pool (~50-200 µs, four of them for a readFile). A no-op rebuild takes the
// GC lock ~10 times, once per cached step, and the main thread sat idle on
// those round trips. Same files, same order, same atomicity: only waiting for
// another process (the sleeps below) stays asynchronous.
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { link, readFile, rename, unlink } from "node:fs/promises";
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
    if (tryCreate(file, token)) return token;
    const held = readHeld(file);
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

/** One attempt: true if the lock is now ours, false if someone holds it. */
function tryCreate(file: string, token: string): boolean {
  for (;;) {
    // The lock appears with its content in one step (link(2) of a written
    // temp file), so no reader ever sees an empty lock of unknown owner.
    const tmp = `${file}.new.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      writeFileSync(tmp, token, { flag: "wx", mode: 0o644 });
      linkSync(tmp, file);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        mkdirSync(dirname(file), { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw e;
      return false;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
    }
  }
}

function readHeld(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
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
  if (readHeld(file) !== token) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
