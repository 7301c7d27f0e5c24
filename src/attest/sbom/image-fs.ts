// Reading a mounted image root from the host. Every path is an image path
// resolved the way a chroot would (fsutil/resolve-in-root): a hostile
// `/etc/os-release -> /../../etc/os-release` lands on the image's own file,
// never the host's.
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { readRegularFile } from "../../fsutil/read-regular-file.js";
import { resolveInRoot } from "../../fsutil/resolve-in-root.js";
import { KilnError } from "../../util/errors.js";

/**
 * A package database or lockfile bigger than this is not one a package
 * manager wrote; reading it would only make every --sbom build slow.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

async function hostPath(root: string, imagePath: string): Promise<string | undefined> {
  try {
    return await resolveInRoot(root, imagePath);
  } catch (err) {
    // A symlink loop inside the image reads as "no such file", as it would for the kernel.
    if (err instanceof KilnError && err.code === "SYMLINK_LOOP") return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  return MISSING.has((err as NodeJS.ErrnoException).code ?? "");
}

/** The text of a regular file in the image, or undefined when it is absent, not a file, or over MAX_FILE_BYTES. */
export async function readImageFile(root: string, imagePath: string, signal?: AbortSignal): Promise<string | undefined> {
  const p = await hostPath(root, imagePath);
  signal?.throwIfAborted();
  if (p === undefined) return undefined;
  try {
    const r = await readRegularFile(p, MAX_FILE_BYTES);
    return r.kind === "file" ? r.bytes.toString("utf8") : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function imagePathExists(root: string, imagePath: string): Promise<boolean> {
  const p = await hostPath(root, imagePath);
  if (p === undefined) return false;
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** Names of the regular files and symlinks in an image directory, sorted; empty when it is absent. */
export async function listImageDir(root: string, imagePath: string): Promise<string[]> {
  const p = await hostPath(root, imagePath);
  if (p === undefined) return [];
  try {
    const entries = await readdir(p, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort(byCodeUnit);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/** Locale-independent order, so output never depends on the machine's collation. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function imageJoin(...parts: string[]): string {
  return path.posix.join("/", ...parts);
}
