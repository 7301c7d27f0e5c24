// Reading a file kiln did not make (an image's /etc/passwd, a context file
// ADD sniffs for an archive) without trusting what it is: opened with
// O_NONBLOCK (a FIFO never blocks the open) and O_NOFOLLOW (a symlink that
// replaced the file is not followed), then checked on the open descriptor to
// be a regular file, and read only up to a bound — so a device, a FIFO or a
// huge file can neither hang kiln nor fill its memory.
import { constants, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";

export type RegularFileRead =
  | { readonly kind: "file"; readonly bytes: Buffer }
  | { readonly kind: "missing" }
  /** A directory, FIFO, socket, device or symlink: `type` says which, for messages. */
  | { readonly kind: "not-regular"; readonly type: string }
  | { readonly kind: "too-large"; readonly size: number };

const MISSING = new Set(["ENOENT", "ENOTDIR"]);

export function fileTypeOf(st: Stats): string {
  if (st.isFile()) return "regular file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symbolic link";
  if (st.isFIFO()) return "FIFO";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  return "special file";
}

/** At most `maxBytes` of a regular file at `hostPath` (host path, already resolved inside its root). */
export async function readRegularFile(hostPath: string, maxBytes: number): Promise<RegularFileRead> {
  let fh;
  try {
    // Checked before the open too: opening a device node can fail (a nodev
    // mount) or act (a tape rewinds) before the descriptor can be checked.
    const before = await lstat(hostPath);
    if (!before.isFile()) return { kind: "not-regular", type: fileTypeOf(before) };
    fh = await open(hostPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (MISSING.has(code)) return { kind: "missing" };
    if (code === "ELOOP") return { kind: "not-regular", type: "symbolic link" };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { kind: "not-regular", type: fileTypeOf(st) };
    if (st.size > maxBytes) return { kind: "too-large", size: st.size };
    // The size may grow after the stat: read one byte past the bound to see it.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) {
        if (n > maxBytes) return { kind: "too-large", size: n };
        break;
      }
    }
    return { kind: "file", bytes: buf.subarray(0, n) };
  } finally {
    await fh.close();
  }
}
