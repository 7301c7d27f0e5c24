// Resolve a path inside an image root the way the kernel would inside a
// chroot: symlinks (absolute or relative) are followed but can never climb
// above `root`. Used for every write kiln makes into a rootfs (COPY, ADD,
// WORKDIR), so a hostile image's `/app -> /etc` or `x -> ../../..` cannot
// redirect a write to the host.
import { lstat, readlink } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../util/errors.js";

const MAX_LINKS = 255;

/**
 * Returns the host path for `p` (absolute, interpreted inside `root`).
 * The last component is resolved too unless `followLast` is false (for
 * operations that act on a symlink itself, such as replacing it).
 */
export async function resolveInRoot(root: string, p: string, followLast = true): Promise<string> {
  const pending = splitPath(p);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, part);
    if (!followLast && pending.length === 0) {
      done.push(part);
      break;
    }
    let st;
    try {
      st = await lstat(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
        done.push(part, ...pending.filter((x) => x !== ".."));
        return path.join(root, ...normalizeParts(done));
      }
      throw err;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) {
        throw new KilnError("SYMLINK_LOOP", `too many levels of symbolic links resolving ${p}`);
      }
      const target = await readlink(candidate);
      if (target.startsWith("/")) done.length = 0;
      pending.unshift(...splitPath(target));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

function splitPath(p: string): string[] {
  return p.split("/").filter((x) => x !== "" && x !== ".");
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const x of parts) {
    if (x === "..") out.pop();
    else out.push(x);
  }
  return out;
}
