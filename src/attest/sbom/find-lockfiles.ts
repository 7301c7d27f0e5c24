// The walk that finds language lockfiles in an image root. It never follows
// a symlink (a linked directory is either elsewhere in the image, where the
// walk finds it anyway, or outside it), and skips what cannot hold a project.
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Semaphore } from "../../util/semaphore.js";
import { byCodeUnit } from "./image-fs.js";

export type LockfileKind = "npm" | "gomod" | "requirements" | "poetry";

export interface Lockfile {
  /** Image path, e.g. /app/package-lock.json. */
  path: string;
  kind: LockfileKind;
}

export function lockfileKind(basename: string): LockfileKind | undefined {
  if (basename === "package-lock.json" || basename === "npm-shrinkwrap.json") return "npm";
  if (basename === "go.mod") return "gomod";
  if (basename === "poetry.lock") return "poetry";
  if (/^requirements.*\.txt$/.test(basename)) return "requirements";
  return undefined;
}

// Kernel filesystems: empty in an image, but a mounted root may show them.
const SKIP_AT_ROOT = new Set(["proc", "sys", "dev"]);
// A lockfile inside node_modules belongs to a dependency, not a project
// (the project's own lockfile already lists that dependency); .git holds none.
const SKIP_ANYWHERE = new Set(["node_modules", ".git"]);

/**
 * The Go module cache ($GOPATH/pkg/mod, recognised by its cache/download)
 * holds the go.mod of every downloaded dependency; their requirements are
 * not what the image's programs were built with.
 */
function isGoModuleCache(rel: string, entries: readonly Dirent[]): boolean {
  return rel.endsWith("/pkg/mod") && entries.some((e) => e.isDirectory() && e.name === "cache");
}

// Parallel readdirs hide disk latency; more than this only queues in libuv.
const CONCURRENT_READDIRS = 16;

export async function findLockfiles(root: string, signal?: AbortSignal): Promise<Lockfile[]> {
  const found: Lockfile[] = [];
  const sem = new Semaphore(CONCURRENT_READDIRS);
  const visit = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    let entries;
    try {
      entries = await sem.run(() => readdir(path.join(root, rel), { withFileTypes: true }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES") return;
      throw err;
    }
    if (isGoModuleCache(rel, entries)) return;
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        if (SKIP_ANYWHERE.has(e.name) || (rel === "" && SKIP_AT_ROOT.has(e.name))) continue;
        subdirs.push(`${rel}/${e.name}`);
      } else if (e.isFile()) {
        const kind = lockfileKind(e.name);
        if (kind) found.push({ path: `${rel}/${e.name}`, kind });
      }
    }
    await Promise.all(subdirs.map(visit));
  };
  await visit("");
  return found.sort((a, b) => byCodeUnit(a.path, b.path));
}
