// The set-up most integration tests share: a store root, a scratch
// directory and a build context inside it, made before a describe block's
// (or, called at the top level, a file's) tests and removed after them.
// Kept in one place so that how a test store is seeded, and that every temp
// directory is cleaned up, is decided once.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { storeWithBusybox } from "./kiln.js";

export interface WorkspaceOptions {
  /** Import busybox:latest into the store (as `kiln import` does); otherwise the store directory starts empty. */
  readonly busybox?: boolean;
  /** SOURCE_DATE_EPOCH for that import, so stores made apart hold the identical base image. */
  readonly sourceDateEpoch?: string;
  /** Files of the build context (`ctx`), written before the first test. */
  readonly context?: Record<string, string>;
  /** In the scratch directory's name, to tell a leftover one apart. */
  readonly name?: string;
}

export interface Workspace {
  /** The store root (`kiln --root`). */
  readonly root: string;
  /** A scratch directory for outputs and extra files. */
  readonly work: string;
  /** `work/ctx`: an existing, initially empty (but for `context`) build context. */
  readonly ctx: string;
  /** Writes `files` (relative path → content) under `dir` (default `ctx`), making parent directories; returns `dir`. */
  writeContext(files: Record<string, string>, dir?: string): Promise<string>;
}

/** Writes `files` (relative path → content) under `dir`, making parent directories; returns `dir`. */
export async function writeContext(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content);
  }
  return dir;
}

/** Registers beforeAll/afterAll in the calling scope; the getters throw if read before beforeAll ran. */
export function useWorkspace(opts: WorkspaceOptions = {}): Workspace {
  let root: string | undefined;
  let work: string | undefined;
  const ready = (v: string | undefined, what: string): string => {
    // Read at describe time (outside a test or hook) it would be undefined and
    // a test would quietly build against the wrong directory.
    if (v === undefined) throw new Error(`workspace ${what} read before its beforeAll ran`);
    return v;
  };
  beforeAll(async () => {
    root = opts.busybox
      ? await storeWithBusybox(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {})
      : await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    work = await mkdtemp(path.join(tmpdir(), `kiln-${opts.name ?? "work"}-`));
    await writeContext(path.join(work, "ctx"), opts.context ?? {});
  });
  afterAll(async () => {
    for (const d of [work, root]) if (d) await rm(d, { recursive: true, force: true });
  });
  return {
    get root() {
      return ready(root, "root");
    },
    get work() {
      return ready(work, "work");
    },
    get ctx() {
      return path.join(ready(work, "ctx"), "ctx");
    },
    writeContext: (files, dir) => writeContext(dir ?? path.join(ready(work, "ctx"), "ctx"), files),
  };
}
