// Copies context files into an image root with COPY's rules: a directory's
// contents (not the directory) are copied, modes and mtimes are kept, owners
// become 0:0 or --chown, hard links within what is copied stay hard links,
// a socket becomes an empty regular file (as BuildKit's context transfer
// sends it), and every destination is resolved inside the root so an
// image's symlinks can never send a write to the host.
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rmdir, symlink, unlink, utimes, writeFile, constants } from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
}

export interface CopyOptions {
  /** "preserve" keeps the source's uid/gid (ADD of an archive). */
  readonly owner: Ownership | "preserve";
  /** --chmod: applied to every copied file and directory (a number, or a function of the source mode). */
  readonly mode?: number | ((current: number, isDir: boolean) => number);
  /** Context-relative paths to leave out (.dockerignore). */
  readonly ignore?: IgnoreMatcher;
}

/**
 * Copy host path `src` (a file, symlink or directory) to absolute image path
 * `destInImage` inside `root`. `relInContext` is src's context-relative path,
 * used to apply .dockerignore to what a directory walk finds.
 */
export async function copyIntoRoot(root: string, src: string, relInContext: string, destInImage: string, opts: CopyOptions): Promise<void> {
  const st = await lstat(src);
  // Hard links among the copied files: source inode -> the first copy's host path.
  const links = new Map<string, string>();
  if (st.isDirectory()) {
    // A directory copy makes its destination as root, or as --chown says (BuildKit): not as the source dir's owner.
    const dest = await ensureDir(root, destInImage, opts.owner === "preserve" ? ROOT : opts.owner, createdDirMode(opts));
    await copyDirContents(root, src, relInContext, dest, destInImage, opts, links);
  } else {
    await ensureDir(root, path.posix.dirname(destInImage), opts.owner === "preserve" ? ROOT : opts.owner, createdDirMode(opts));
    const dest = await resolveInRoot(root, destInImage, false);
    await copyEntry(src, dest, opts, links);
  }
}

const ROOT: Ownership = { uid: 0, gid: 0 };

/** Directories a copy creates on the way take --chmod too (BuildKit's CopyChmod); 0755 otherwise. */
export function createdDirMode(opts: Pick<CopyOptions, "mode">): number {
  return typeof opts.mode === "number" ? opts.mode : typeof opts.mode === "function" ? opts.mode(0o755, true) : 0o755;
}

/** mkdir -p inside the root; created directories get `owner` and `mode` (0755 unless given). */
export async function ensureDir(root: string, dirInImage: string, owner: Ownership, mode = 0o755): Promise<string> {
  const parts = dirInImage.split("/").filter((p) => p !== "" && p !== ".");
  let current = "/";
  let host = root;
  for (const part of parts) {
    current = path.posix.join(current, part);
    host = await resolveInRoot(root, current);
    try {
      const st = await lstat(host);
      if (!st.isDirectory()) {
        throw Object.assign(new Error(`cannot create directory ${current}: a file is in the way`), { code: "ENOTDIR" });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // A symlink may have led to a path whose parents are missing too; they
      // are plain new directories inside the root (resolveInRoot checked the
      // existing part), created like docker does: 0755, owned as asked.
      const first = await mkdir(host, { recursive: true, mode: 0o755 });
      for (let d = host; first !== undefined && d.length >= first.length; d = path.dirname(d)) {
        await lchown(d, owner.uid, owner.gid);
        await chmod(d, mode);
      }
    }
  }
  return host;
}

/** Returns whether anything was written under destDir. */
async function copyDirContents(root: string, srcDir: string, relDir: string, destDir: string, destInImage: string, opts: CopyOptions, links: Map<string, string>): Promise<boolean> {
  const names = (await readdir(srcDir)).sort();
  let wrote = false;
  for (const name of names) {
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    const src = path.join(srcDir, name);
    const st = await lstat(src);
    const ignored = opts.ignore?.ignores(rel) ?? false;
    if (ignored && !(st.isDirectory() && opts.ignore!.mayIncludeUnder(rel))) continue;
    // destDir is a real directory inside the root; only `name` may be a
    // symlink planted by the image, and it is never followed for a write
    // except through resolveInRoot, which keeps it inside the root.
    const imagePath = path.posix.join(destInImage, name);
    let dest = path.join(destDir, name);
    if (st.isDirectory()) {
      const existing = await lstat(dest).catch(() => undefined);
      if (existing?.isSymbolicLink()) dest = await ensureDir(root, imagePath, ownerOf(opts, st), createdDirMode(opts));
      else if (existing && !existing.isDirectory()) await unlink(dest);
      const made = !existing || (!existing.isDirectory() && !existing.isSymbolicLink());
      if (made) await mkdir(dest).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
      const inside = await copyDirContents(root, src, rel, dest, imagePath, opts, links);
      // An ignored directory is walked only for `!` exceptions under it; as
      // BuildKit's context transfer, it exists in the copy only when one of
      // them matched something (then with its own metadata), never empty.
      if (ignored && !inside) {
        if (made) await rmdir(dest);
        continue;
      }
      await applyMeta(dest, st, opts);
    } else {
      await copyEntry(src, dest, opts, links);
    }
    wrote = true;
  }
  return wrote;
}

async function copyEntry(src: string, dest: string, opts: CopyOptions, links: Map<string, string>): Promise<void> {
  const st = await lstat(src);
  const existing = await lstat(dest).catch(() => undefined);
  if (existing?.isDirectory() && !st.isDirectory()) {
    throw Object.assign(new Error(`cannot copy file over directory ${dest}`), { code: "EISDIR" });
  }
  if (existing) await unlink(dest);
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
    const owner = ownerOf(opts, st);
    await lchown(dest, owner.uid, owner.gid);
    await lutimes(dest, st.atime, st.mtime);
    return;
  }
  if (st.isSocket()) {
    await writeFile(dest, "");
    await applyMeta(dest, st, opts);
    return;
  }
  if (!st.isFile()) return; // devices and fifos in a context are not copied
  const inode = `${st.dev}:${st.ino}`;
  const first = st.nlink > 1 ? links.get(inode) : undefined;
  if (first !== undefined) {
    await link(first, dest);
    return;
  }
  await copyFile(src, dest, constants.COPYFILE_FICLONE);
  await applyMeta(dest, st, opts);
  if (st.nlink > 1) links.set(inode, dest);
}

function ownerOf(opts: CopyOptions, st: Stats): Ownership {
  return opts.owner === "preserve" ? { uid: st.uid, gid: st.gid } : opts.owner;
}

async function applyMeta(dest: string, st: Stats, opts: CopyOptions): Promise<void> {
  const owner = ownerOf(opts, st);
  const { mode: srcMode, atime, mtime } = st;
  await lchown(dest, owner.uid, owner.gid);
  // chmod after chown: chown clears setuid/setgid bits.
  const mode = typeof opts.mode === "function" ? opts.mode(srcMode & 0o7777, st.isDirectory()) : opts.mode ?? srcMode & 0o7777;
  await chmod(dest, mode);
  await utimes(dest, atime, mtime);
}
