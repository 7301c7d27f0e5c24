// Overlay mounts for step rootfs, the way containerd's overlay snapshotter
// does them, by spawning mount(8).
//
// Options are always explicit: index=off, metacopy=off, redirect_dir=off.
// With metacopy or redirect_dir on (some distributions default them on) the
// upper dir would hold metadata-only copies and renamed directories, and
// the upper-dir differ (diff.ts) would produce a wrong layer.
//
// The option-length limit: util-linux < 2.39 passes options through the
// legacy mount(2) syscall, whose data argument is one page (4096 bytes,
// NUL included). A chain of absolute snapshot paths overflows that after a
// few dozen layers. Like containerd, kiln spawns mount with its cwd set to
// the deepest common parent of all the directories and passes relative
// paths ("12/fs:11/fs:..."), which fits hundreds of layers; overlayfs itself
// stacks at most 500 lowers. A chain that still does not fit is reported as
// OVERLAY_TOO_DEEP rather than handed to the kernel to truncate.
//
// Every view is mounted nosuid,nodev: while it is mounted it sits in the
// store's tmp/, and an image's setuid-root file or device node must never
// work for whoever reaches that path on the host. (The store itself is
// 0700 as well; a RUN container gets setuid back inside its own mount
// namespace, see run-container.ts.)
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KilnError } from "../util/errors.js";
import { inUserNamespace } from "../rootless/namespace.js";
import { afterUnmountInUserNamespace, mountInUserNamespace, USERNS_OVERLAY_OPTS } from "../rootless/overlay-driver.js";
import { run } from "../fsutil/xattr.js";

export interface OverlayMount {
  /** Lower layers, topmost first. May be empty (FROM scratch). */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/** Bytes the legacy mount(2) data page can hold (NUL excluded). */
export const MOUNT_OPTIONS_MAX = 4095;
/** overlayfs' own stacking limit (OVL_MAX_STACK). */
export const OVERLAY_MAX_LOWERS = 500;

const FIXED_OPTS = "index=off,metacopy=off,redirect_dir=off";
/** Mount flags (mount(8) turns them into MS_NOSUID|MS_NODEV, not overlay options). */
export const VIEW_FLAGS = "nosuid,nodev";

let emptyLower: Promise<string> | null = null;

/** An empty, never-written directory used as the lower of a FROM-scratch mount (overlay needs one). */
function scratchLower(): Promise<string> {
  emptyLower ??= mkdtemp(path.join(tmpdir(), "kiln-empty-lower-"));
  return emptyLower;
}

export async function mountOverlay(m: OverlayMount): Promise<void> {
  const lowers = m.lowers.length > 0 ? m.lowers : [await scratchLower()];
  await mountWith(lowers, { upper: m.upper, work: m.work }, m.target, false);
}

/**
 * A read-only merged view of `lowers` (topmost first) at target, e.g. to
 * export a flattened rootfs. Without an upper, overlayfs wants at least two
 * lowers ("at least 2 lowerdir are needed while upperdir nonexistent"), so
 * an empty dir is stacked under a single one; overlay (not a bind mount)
 * keeps whiteouts hidden the same way at any depth.
 */
export async function mountReadOnlyView(lowers: string[], target: string): Promise<void> {
  const padded = lowers.length >= 2 ? lowers : [...lowers, await scratchLower(), ...(lowers.length === 0 ? [await scratchLower2()] : [])];
  await mountWith(padded, null, target, true);
}

let emptyLower2: Promise<string> | null = null;
function scratchLower2(): Promise<string> {
  emptyLower2 ??= mkdtemp(path.join(tmpdir(), "kiln-empty-lower-"));
  return emptyLower2;
}

export async function unmount(target: string): Promise<void> {
  await run("umount", [target]);
  await afterUnmountInUserNamespace(path.resolve(target));
}

async function mountWith(
  lowersIn: string[],
  rw: { upper: string; work: string } | null,
  target: string,
  readOnly: boolean,
): Promise<void> {
  if (lowersIn.length > OVERLAY_MAX_LOWERS) {
    throw new KilnError("OVERLAY_TOO_DEEP", `${lowersIn.length} lower layers exceed overlayfs' limit of ${OVERLAY_MAX_LOWERS}`, {
      hint: "squash the base image or reduce the number of layers",
    });
  }
  const lowers = lowersIn.map((l) => path.resolve(l));
  const all = rw ? [...lowers, path.resolve(rw.upper), path.resolve(rw.work)] : lowers;
  for (const p of all) {
    // overlayfs splits on ',' and ':' and treats '\' as an escape; kiln's own
    // store paths never contain them, so refuse rather than escape.
    if (/[,:\\]/.test(p)) throw new KilnError("OVERLAY_BAD_PATH", `cannot use "${p}" in an overlay mount: it contains ',', ':' or '\\'`);
  }
  const cwd = commonParent(all);
  const rel = (p: string): string => path.relative(cwd, p) || ".";
  let dirs = `lowerdir=${lowers.map(rel).join(":")}`;
  if (rw) dirs += `,upperdir=${rel(path.resolve(rw.upper))},workdir=${rel(path.resolve(rw.work))}`;
  const flags = `${readOnly ? "ro," : ""}${VIEW_FLAGS}`;
  const opts = `${flags},${dirs},${inUserNamespace() ? USERNS_OVERLAY_OPTS : FIXED_OPTS}`;
  if (Buffer.byteLength(opts) > MOUNT_OPTIONS_MAX) {
    throw new KilnError(
      "OVERLAY_TOO_DEEP",
      `overlay mount options for ${lowers.length} layers are ${Buffer.byteLength(opts)} bytes; the kernel accepts ${MOUNT_OPTIONS_MAX}`,
      { hint: "keep snapshots under one short directory, or squash the base image" },
    );
  }
  if (rw) await mkdir(path.resolve(rw.work), { recursive: true });
  if (inUserNamespace()) await mountInUserNamespace({ flags, dirs, target: path.resolve(target), cwd, lowers, ...(rw ? { upper: path.resolve(rw.upper) } : {}) });
  else await run("mount", ["-t", "overlay", "overlay", "-o", opts, path.resolve(target)], { cwd });
}

function commonParent(paths: string[]): string {
  let parts = path.dirname(paths[0]!).split(path.sep);
  for (const p of paths.slice(1)) {
    const q = path.dirname(p).split(path.sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(path.sep) || path.sep;
}
