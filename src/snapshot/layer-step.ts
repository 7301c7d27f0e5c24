// One filesystem-changing step: an overlay over the current chain, the
// step's work in the merged view, then the upper dir committed as a new
// snapshot with its diffID. An empty upper is a layer too (an empty tar):
// BuildKit's Dockerfile frontend commits every RUN, COPY, ADD and WORKDIR
// (but WORKDIR /) as a layer, whether it changed anything or not.
import { chmod, chown, mkdir, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { clampMtimes } from "../fsutil/clamp-mtimes.js";
import { layerTarDigest } from "./digest-stream.js";
import { mountOverlay, unmount } from "./overlay.js";
import { chainIdOf, type SnapshotIndex } from "../store/snapshot-index.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import { timePhase } from "../util/phases.js";

export interface LayerStepEnv {
  readonly snapshots: SnapshotIndex;
  /** Scratch space on the store's filesystem (mount points, empty lowers). */
  readonly tmpDir: string;
  readonly sourceDateEpoch?: number;
  /** Makes every snapshot of a chain exist (layers left in a registry are fetched: cache/on-demand-layers.ts). */
  readonly ensureChain?: (layers: readonly LayerRecord[]) => Promise<void>;
}

export async function runLayerStep(
  env: LayerStepEnv,
  layers: readonly LayerRecord[],
  work: (rootfs: string) => Promise<void>,
): Promise<LayerRecord> {
  await env.ensureChain?.(layers);
  const prepared = await env.snapshots.prepare();
  const upper = path.join(prepared, "fs");
  const workDir = path.join(prepared, "work");
  const merged = path.join(env.tmpDir, `mnt-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(workDir);
  await mkdir(merged);
  let committed = false;
  try {
    const lowers = layers.length ? env.snapshots.lowerDirs(layers.map((l) => l.chainId)) : [await emptyLower(env.tmpDir)];
    await inheritRootAttrs(upper, lowers[0]!);
    await timePhase("mount", () => mountOverlay({ lowers, upper, work: workDir, target: merged }));
    try {
      await timePhase("run", () => work(merged));
    } finally {
      await timePhase("unmount", () => unmount(merged));
    }
    await rm(workDir, { recursive: true, force: true });
    if (env.sourceDateEpoch !== undefined) await timePhase("clamp mtimes", () => clampMtimes(upper, env.sourceDateEpoch!));
    // layerTarStream records the walk ("diff walk") and the stream ("tar+digest").
    const { diffId } = await layerTarDigest(upper, { phase: "tar+digest" });
    const parent = layers.at(-1)?.chainId ?? null;
    const chainId = chainIdOf(parent, diffId);
    await timePhase("snapshot", () => env.snapshots.commit(prepared, { chainId, diffId, parent }));
    committed = true;
    return { diffId, chainId };
  } finally {
    if (!committed) await env.snapshots.discard(prepared);
    // rmdir, never rm -r: if the unmount failed, the mount must not be emptied.
    await rmdir(merged).catch(() => {});
  }
}

/**
 * The merged root takes the upper dir's mode and owner, so the upper must
 * carry the root of the image below it (as containerd's overlay snapshotter
 * copies the parent's owner): otherwise every RUN sees a `/` only root can
 * enter, and a non-root USER cannot even load libc.
 */
async function inheritRootAttrs(upper: string, topLower: string): Promise<void> {
  const st = await stat(topLower);
  await chown(upper, st.uid, st.gid);
  await chmod(upper, st.mode & 0o7777);
}

async function emptyLower(tmpDir: string): Promise<string> {
  const dir = path.join(tmpDir, "empty-lower");
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755); // the root of a FROM-scratch step, as containerd's
  return dir;
}
