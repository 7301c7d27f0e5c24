// The walk that finds language lockfiles, and executables that may be Go
// programs, in an image root. It never follows a symlink (a linked directory
// is either elsewhere in the image, where the walk finds it anyway, or
// outside it; a linked file is the same), and skips what cannot hold a project.
import { lstatSync, type Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Semaphore } from "../../util/semaphore.js";
import { mayBeGoBinary, mayBeProgramPath } from "./go-binary.js";
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

export interface WalkResult {
  lockfiles: Lockfile[];
  /** Image paths of regular files that may be Go programs (go-binary.ts: name, exec bit, size), e.g. /usr/local/bin/app. */
  executables: string[];
}

const IO_ERRORS_SKIPPED = new Set(["ENOENT", "ENOTDIR", "EACCES"]);

export async function walkImage(root: string, signal?: AbortSignal): Promise<WalkResult> {
  const found: Lockfile[] = [];
  const executables: string[] = [];
  const sem = new Semaphore(CONCURRENT_READDIRS);
  // Synchronous on purpose: an lstat is ~3 µs as a plain syscall but costs
  // 10-20 µs as a promise through libuv's thread pool, which made the
  // Debian base's ~1,300 lstats cost as much as the rest of the scan. The event
  // loop is held for one directory's files at a time, never for the disk
  // reads of the readdirs, which stay parallel.
  const checkFiles = (rels: string[]): void => {
    for (const rel of rels) {
      let st;
      try {
        st = lstatSync(path.join(root, rel));
      } catch (err) {
        if (IO_ERRORS_SKIPPED.has((err as NodeJS.ErrnoException).code ?? "")) continue;
        throw err;
      }
      if (mayBeGoBinary(st)) executables.push(rel);
    }
  };
  const visit = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    let entries;
    try {
      entries = await sem.run(() => readdir(path.join(root, rel), { withFileTypes: true }));
    } catch (err) {
      if (IO_ERRORS_SKIPPED.has((err as NodeJS.ErrnoException).code ?? "")) return;
      throw err;
    }
    if (isGoModuleCache(rel, entries)) return;
    const subdirs: string[] = [];
    const files: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        if (SKIP_ANYWHERE.has(e.name) || (rel === "" && SKIP_AT_ROOT.has(e.name))) continue;
        subdirs.push(`${rel}/${e.name}`);
      } else if (e.isFile()) {
        const kind = lockfileKind(e.name);
        if (kind) found.push({ path: `${rel}/${e.name}`, kind });
        else if (mayBeProgramPath(`${rel}/${e.name}`)) files.push(`${rel}/${e.name}`);
      }
    }
    checkFiles(files);
    await Promise.all(subdirs.map(visit));
  };
  await visit("");
  return {
    lockfiles: found.sort((a, b) => byCodeUnit(a.path, b.path)),
    executables: executables.sort(byCodeUnit),
  };
}
