// A filesystem tree as comparable lines: path, type, mode, owner and what
// the entry holds (content hash, link target, device numbers).
import { createHash } from "node:crypto";
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import path from "node:path";

export async function treeLines(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inodes = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = await lstat(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      let what: string;
      if (st.isDirectory()) what = "dir";
      else if (st.isSymbolicLink()) what = `symlink -> ${await readlink(p)}`;
      else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (st.nlink > 1 && !first) inodes.set(key, r);
        what = `file ${createHash("sha256").update(await readFile(p)).digest("hex").slice(0, 16)}${first ? ` hardlink=${first}` : ""}`;
      } else if (st.isCharacterDevice()) what = `char ${st.rdev}`;
      else if (st.isFIFO()) what = "fifo";
      else what = "other";
      out.set(r, `${st.isSymbolicLink() ? "" : mode} ${st.uid}:${st.gid} ${what}`.trim());
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk("");
  return out;
}
