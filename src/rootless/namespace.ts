// Whether this process runs in a user namespace other than the initial one,
// and what that changes for overlay mounts. Read once: a process never
// changes its user namespace after start (kiln re-executes itself instead,
// see user-namespace.ts).
//
// In a user namespace overlayfs may only be mounted with `userxattr`: its
// bookkeeping (opaque dirs) lives in user.overlay.* instead of
// trusted.overlay.* (trusted.* needs CAP_SYS_ADMIN in the initial
// namespace), and redirect_dir can only be `nofollow` (`off` means "follow"
// while the module's redirect_always_follow is on, which userxattr refuses).
import { readFileSync } from "node:fs";

let cached: boolean | undefined;

/** True when /proc/self/uid_map is not the identity map of all 2^32-1 ids. */
export function inUserNamespace(): boolean {
  if (cached !== undefined) return cached;
  try {
    const map = readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/);
    cached = !(map.length === 3 && map[0] === "0" && map[1] === "0" && map[2] === "4294967295");
  } catch {
    cached = false;
  }
  return cached;
}

/** The xattr namespace overlayfs keeps its metadata in, for mounts made by this process. */
export function overlayXattrPrefix(): string {
  return inUserNamespace() ? "user.overlay." : "trusted.overlay.";
}

/**
 * Both namespaces' overlay metadata is dropped from layers in either mode,
 * so a layer carries the same bytes whether it was built as root or not
 * (and a layer can never forge the other mode's opaque marker).
 */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.") || name.startsWith("user.fuseoverlayfs.");
}

/** Whether a directory's xattrs mark it opaque for the overlay driver in use (fuse-overlayfs writes its own name). */
export function isOpaqueDir(xattrs: ReadonlyMap<string, Buffer> | undefined): boolean {
  if (!xattrs) return false;
  const names = inUserNamespace() ? ["user.overlay.opaque", "user.fuseoverlayfs.opaque"] : ["trusted.overlay.opaque"];
  return names.some((n) => xattrs.get(n)?.toString() === "y");
}
