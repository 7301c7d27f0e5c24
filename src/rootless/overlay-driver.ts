// Overlay mounts without root: the kernel's overlayfs in the user namespace
// when it allows it (Linux >= 5.11, and no distribution patch refusing it),
// else fuse-overlayfs (Debian: fuse-overlayfs; needs a usable /dev/fuse).
// The first mount tries the kernel and remembers what worked for the rest
// of the process; KILN_OVERLAY=kernel or =fuse-overlayfs forces one.
//
// The kernel needs `userxattr` in a user namespace (its metadata is in
// user.overlay.*), and only accepts redirect_dir=nofollow with it.
// fuse-overlayfs takes neither option: it never writes redirects or
// metacopy, reads user.overlay.opaque in lowers, and marks opaque dirs it
// makes with user.fuseoverlayfs.opaque (namespace.ts knows both).
import { KilnError } from "../util/errors.js";
import { run } from "../fsutil/xattr.js";
import { normalizeFuseUpper } from "./fuse-upper.js";
import { findOnPath } from "../util/find-on-path.js";

export type OverlayDriver = "kernel" | "fuse-overlayfs";

export const USERNS_OVERLAY_OPTS = "index=off,metacopy=off,redirect_dir=nofollow,userxattr";

let chosen: OverlayDriver | undefined;

/** The driver this process mounts with, once a mount has been made (for `kiln info` and progress). */
export function overlayDriverInUse(): OverlayDriver | undefined {
  return chosen;
}

export interface UsernsMount {
  /** ro, nosuid, nodev */
  readonly flags: string;
  /** lowerdir=…[,upperdir=…,workdir=…], relative to cwd */
  readonly dirs: string;
  readonly target: string;
  readonly cwd: string;
  /** Absolute, topmost first; with upper, for fuse-upper.ts after unmount. */
  readonly lowers: readonly string[];
  readonly upper?: string;
}

/** Read-write fuse mounts by target, to normalize their upper once unmounted. */
const fuseMounts = new Map<string, { upper: string; lowers: readonly string[] }>();

export async function afterUnmountInUserNamespace(target: string): Promise<void> {
  const m = fuseMounts.get(target);
  if (!m) return;
  fuseMounts.delete(target);
  await normalizeFuseUpper(m.upper, m.lowers);
}

function forced(env: NodeJS.ProcessEnv): OverlayDriver | undefined {
  const v = env.KILN_OVERLAY;
  if (v === undefined || v === "") return undefined;
  if (v === "kernel" || v === "fuse-overlayfs") return v;
  throw new KilnError("USAGE", `KILN_OVERLAY=${v}: expected "kernel" or "fuse-overlayfs"`);
}

export async function mountInUserNamespace(m: UsernsMount, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const driver = chosen ?? forced(env);
  if (driver === "kernel" || driver === undefined) {
    try {
      await run("mount", ["-t", "overlay", "overlay", "-o", `${m.flags},${m.dirs},${USERNS_OVERLAY_OPTS}`, m.target], { cwd: m.cwd });
      chosen = "kernel";
      return;
    } catch (err) {
      if (driver === "kernel") throw err;
      // Not decided yet: the kernel refused, so try FUSE below.
      if (!(await findOnPath("fuse-overlayfs", env.PATH))) {
        throw new KilnError("NO_OVERLAY", `the kernel refuses overlay mounts in a user namespace (${(err as Error).message.split("\n")[0]}) and fuse-overlayfs is not installed`, {
          hint: "install fuse-overlayfs (Debian/Ubuntu: apt-get install fuse-overlayfs), or run kiln as root",
        });
      }
    }
  }
  await fuseMount(m, env);
  chosen = "fuse-overlayfs";
  if (m.upper) fuseMounts.set(m.target, { upper: m.upper, lowers: m.lowers });
}

async function fuseMount(m: UsernsMount, env: NodeJS.ProcessEnv): Promise<void> {
  const bin = await findOnPath("fuse-overlayfs", env.PATH);
  if (!bin) {
    throw new KilnError("NO_OVERLAY", "KILN_OVERLAY=fuse-overlayfs but fuse-overlayfs is not installed", { hint: "apt-get install fuse-overlayfs" });
  }
  try {
    await run(bin, ["-o", `${m.flags},${m.dirs}`, m.target], { cwd: m.cwd });
  } catch (err) {
    throw new KilnError("OVERLAY_FAILED", `fuse-overlayfs could not mount ${m.target}: ${(err as Error).message}`, {
      hint: "fuse-overlayfs needs /dev/fuse readable and writable by you (mode 0666, as udev sets it) and the fuse module loaded",
      cause: err,
    });
  }
}
