// fuse-overlayfs (1.10) keeps an upper dir in its own dialect, which the
// layer differ would read wrongly. After a read-write fuse mount is gone,
// its upper is rewritten into the form the kernel's overlayfs leaves, so a
// layer is the same bytes with either driver:
// - every directory it creates is marked opaque three ways (the xattr
//   user.fuseoverlayfs.opaque, a `.wh..wh..opq` file and a `.wh..opq`
//   whiteout inside): the markers go, and the directory stays opaque
//   (user.overlay.opaque) only where it replaced something in a lower;
// - it leaves a whiteout for every deleted directory, also one that no
//   lower has (made and removed in the same step): such whiteouts go.
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { dumpXattrs, restoreXattrs, run } from "../snapshot/xattr.js";

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
  const walk = async (rel: string): Promise<void> => {
    const dir = path.join(root, rel);
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const abs = path.join(dir, d.name);
      if (d.name === ".wh..wh..opq" || d.name === ".wh..opq") {
        await rm(abs);
        continue;
      }
      if (d.isCharacterDevice()) {
        const st = await lstat(abs);
        if (st.rdev === 0 && !(await inLower(r))) await rm(abs);
        continue;
      }
      if (!d.isDirectory()) continue;
      const xa = xattrs.get(abs);
      if (xa?.get(FUSE_OPAQUE)?.toString() === "y") {
        const m = new Map<string, Buffer>();
        if (await inLower(r)) m.set("user.overlay.opaque", Buffer.from("y"));
        fixes.push([abs, m]);
        await removeXattr(abs, FUSE_OPAQUE);
      }
      await walk(r);
    }
  };
  await walk("");
  await restoreXattrs(fixes);
}

function removeXattr(file: string, name: string): Promise<void> {
  return run("setfattr", ["-h", "-x", name, file]);
}
