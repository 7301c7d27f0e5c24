// fuse-overlayfs (1.10) keeps an upper dir in its own dialect, which the
// layer differ would read wrongly. After a read-write fuse mount is gone,
// its upper is rewritten into the form the kernel's overlayfs leaves, so a
// layer is the same bytes with either driver:
// - every directory it creates is marked opaque three ways (the xattr
//   user.fuseoverlayfs.opaque, a `.wh..wh..opq` file and a `.wh..opq`
//   whiteout inside): the markers go, and the directory stays opaque
//   (user.overlay.opaque) only where it replaced something in a lower;
// - it leaves a whiteout for every deleted directory, also one that no
//   lower has (made and removed in the same step): such whiteouts go;
// - copying a directory up does not keep its times, as the kernel does: a
//   directory whose own metadata and names match its lower gets the
//   lower's times back (so a step that only replaced a file in place, or
//   only touched a directory, shows the lower's time under fuse-overlayfs;
//   README says so), and removing markers keeps the times it found.
import { lstat, readdir, rm, utimes } from "node:fs/promises";
import path from "node:path";
import { dumpXattrs, restoreXattrs, run } from "../fsutil/xattr.js";

const FUSE_OPAQUE = "user.fuseoverlayfs.opaque";

export async function normalizeFuseUpper(upper: string, lowers: readonly string[]): Promise<void> {
  const root = path.resolve(upper);
  const xattrs = await dumpXattrs(root);
  const inLower = async (rel: string): Promise<boolean> => {
    for (const l of lowers) {
      const st = await lstat(path.join(l, rel)).catch(() => null);
      if (st) return !(st.isCharacterDevice() && st.rdev === 0); // a lower's own whiteout: nothing below is visible
    }
    return false;
  };
  const fixes: [string, Map<string, Buffer>][] = [];
  const times: [string, Date, Date][] = [];
  /** Returns whether the directory's list of names is its lower's. */
  const walk = async (rel: string): Promise<boolean> => {
    const dir = path.join(root, rel);
    const before = await lstat(dir);
    let sameNames = true;
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const abs = path.join(dir, d.name);
      if (d.name === ".wh..wh..opq" || d.name === ".wh..opq") {
        await rm(abs);
        continue;
      }
      if (d.isCharacterDevice() && (await lstat(abs)).rdev === 0) {
        if (await inLower(r)) sameNames = false;
        else await rm(abs);
        continue;
      }
      if (!(await inLower(r))) sameNames = false;
      if (!d.isDirectory()) continue;
      const xa = xattrs.get(abs);
      let opaque = false;
      if (xa?.get(FUSE_OPAQUE)?.toString() === "y") {
        const m = new Map<string, Buffer>();
        opaque = await inLower(r);
        // A replaced directory was removed and made again: its parent changed.
        if (opaque) {
          m.set("user.overlay.opaque", Buffer.from("y"));
          sameNames = false;
        }
        fixes.push([abs, m]);
        await removeXattr(abs, FUSE_OPAQUE);
      }
      const unchanged = await walk(r);
      const low = opaque || !unchanged ? null : await lowerDir(r);
      const st = await lstat(abs);
      if (low && low.mode === st.mode && low.uid === st.uid && low.gid === st.gid) times.push([abs, low.atime, low.mtime]);
    }
    times.push([dir, before.atime, before.mtime]);
    return sameNames;
  };
  const lowerDir = async (rel: string) => {
    for (const l of lowers) {
      const st = await lstat(path.join(l, rel)).catch(() => null);
      if (st) return st.isDirectory() ? st : null;
    }
    return null;
  };
  await walk("");
  await restoreXattrs(fixes);
  // A directory's times found are recorded when its walk ends, a lower's
  // after that: the last entry for a path wins. No rm happens from here on.
  const last = new Map<string, [Date, Date]>();
  for (const [p, a, m] of times) last.set(p, [a, m]);
  for (const [p, [a, m]] of last) await utimes(p, a, m);
}

function removeXattr(file: string, name: string): Promise<void> {
  return run("setfattr", ["-h", "-x", name, file]);
}
