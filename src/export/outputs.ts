// The final filesystem as files: --output type=local (a folder), type=tar,
// and a read-only view of it for the SBOM scan.
import { mkdir, rmdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import path from "node:path";
import { mountReadOnlyView, unmount } from "../snapshot/overlay.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { LayerRecord } from "../store/snapshot-index.js";

/** The final root filesystem as plain files: a read-only overlay view copied out. */
export async function exportRootfs(store: Store, snapshots: SnapshotIndex, layers: readonly LayerRecord[], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  if (layers.length === 0) return;
  await withRootfsView(store, snapshots, layers, (view) => run("cp", ["-a", `${view}/.`, dest]));
}

/** The final root filesystem as one tar (numeric owners, sorted names: the same tree gives the same tar). */
export async function exportRootfsTar(store: Store, snapshots: SnapshotIndex, layers: readonly LayerRecord[], dest: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(dest)), { recursive: true });
  await withRootfsView(store, snapshots, layers, (view) => run("tar", ["--sort=name", "--numeric-owner", "-C", view, "-cf", path.resolve(dest), "."]));
}

/** Runs `fn` on a read-only overlay view of `layers` (an empty directory for none), unmounted after. */
export async function withRootfsView<T>(store: Store, snapshots: SnapshotIndex, layers: readonly LayerRecord[], fn: (dir: string) => Promise<T>): Promise<T> {
  const view = path.join(store.paths.tmp, `view-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(view);
  try {
    if (layers.length === 0) return await fn(view);
    await mountReadOnlyView(snapshots.lowerDirs(layers.map((l) => l.chainId)), view);
    try {
      return await fn(view);
    } finally {
      await unmount(view);
    }
  } finally {
    await rmdir(view).catch(() => {});
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new KilnError("EXPORT_FAILED", `${cmd} ${args.join(" ")} failed: ${err.trim()}`))));
  });
}
