// Crash-safe file writes: data goes to a temp file on the same filesystem,
// is fsynced, then renamed into place, and the directory is fsynced so the
// rename itself survives a power cut. A reader sees the old file or the new
// one, never half of one.
import { randomBytes } from "node:crypto";
import { link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A unique temp file name in `dir` (nothing is created). */
export function tempPath(dir: string, hint = "tmp"): string {
  return join(dir, `${hint.replace(/[^\w.-]/g, "_")}.${process.pid}.${randomBytes(6).toString("hex")}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write `data` to a new temp file in `tmpDir` and fsync it; returns its path. */
export async function writeTempFile(tmpDir: string, data: Uint8Array | string, hint?: string): Promise<string> {
  const tmp = tempPath(tmpDir, hint);
  const fh = await open(tmp, "wx", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    await fh.close().catch(() => {});
  }
  return tmp;
}

/** Rename a durable temp file over `dest` and make the rename durable.
 * On failure the temp file is left for the caller to remove. */
export async function commitFile(tmp: string, dest: string): Promise<void> {
  await rename(tmp, dest);
  await fsyncDir(dirname(dest));
}

/** Atomically replace `dest` with `data`. `tmpDir` must be on dest's filesystem. */
export async function writeFileDurable(dest: string, data: Uint8Array | string, tmpDir = dirname(dest)): Promise<void> {
  const tmp = await writeTempFile(tmpDir, data, basename(dest));
  try {
    await commitFile(tmp, dest);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** Create `dest` with `data` only if it does not exist yet (link(2) never
 * clobbers), so two processes initialising the same store cannot overwrite
 * each other's first write. Returns false when it already existed. */
export async function createFileDurable(dest: string, data: Uint8Array | string, tmpDir = dirname(dest)): Promise<boolean> {
  const tmp = await writeTempFile(tmpDir, data, basename(dest));
  try {
    await link(tmp, dest);
    await fsyncDir(dirname(dest));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
