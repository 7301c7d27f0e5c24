// How an error reaches the terminal: one line with file:line and the hint,
// then the offending source line, docker-style. A system error (EACCES,
// ENOSPC, ...) that reached here unwrapped gets a hint naming what kiln
// needs instead of Node's bare text.
import { KilnError } from "../util/errors.js";

export function formatError(err: unknown, uid: number | undefined = process.getuid?.()): string {
  if (err instanceof KilnError) {
    let s = `error: ${err.format()}\n`;
    // Every physical line of the instruction, numbered, so an error in a
    // continued instruction names each of its lines (as BuildKit's source map).
    const loc = err.location;
    if (loc?.text) [loc.text, ...(loc.more ?? [])].forEach((t, i) => (s += ` line ${String(loc.line + i).padEnd(4)}| ${t}\n`));
    return s;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string" && e.message) {
    const hint = systemErrorHint(e.code, uid);
    return `error: ${e.message}${hint ? ` — ${hint}` : ""}\n`;
  }
  return `error: internal: ${(err as Error)?.stack ?? String(err)}\n`;
}

/** What to do about a system error, by its errno code. */
export function systemErrorHint(code: string, uid: number | undefined): string | undefined {
  switch (code) {
    case "EACCES":
    case "EPERM":
      // In kiln's own user namespace uid is 0, but the host sees the user.
      if (process.env.KILN_ROOTLESS_UID) {
        return `kiln runs without root here (as uid ${process.env.KILN_ROOTLESS_UID}, in a user namespace): the store and every path it writes must be yours; use the default store (~/.local/share/kiln) or --root DIR you own`;
      }
      return uid !== 0
        ? "kiln needs root to mount overlays and run containers: run it as root (sudo), or use a store you own with --root DIR in rootless mode"
        : "permission denied even as root: check the path's owner and mount options (read-only or nosuid file system, or a security module)";
    case "ENOSPC":
      return "no space left on the device holding the store: free space, or run `kiln cache prune` and `kiln image prune`";
    case "EROFS":
      return "the file system is read-only: give kiln a writable store with --root DIR or $KILN_ROOT";
    case "EMFILE":
    case "ENFILE":
      return "too many open files: raise the limit (ulimit -n)";
    default:
      return undefined;
  }
}
