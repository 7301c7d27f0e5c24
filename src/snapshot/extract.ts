// Applies one OCI layer tar to an empty directory, producing the overlayfs
// form containerd's overlay snapshotter uses: `.wh.NAME` becomes a 0/0
// character device NAME, `.wh..wh..opq` becomes trusted.overlay.opaque=y on
// its directory (user.overlay.opaque in a user namespace, rootless/).
// The result is used as a lowerdir as it is.
//
// Security: the tar is untrusted. Names with ".." or a leading "/" are
// rejected, every parent directory is checked with lstat (a symlink on the
// way is rejected, never followed), files are created with O_EXCL|O_NOFOLLOW
// and hardlink targets must be existing entries inside dest. A hostile
// entry is a KilnError "HOSTILE_LAYER" naming it.
import { constants as fsc } from "node:fs";
import { chmod, chown, link, lchown, lstat, lutimes, mkdir, open, readdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { spawn } from "node:child_process";
import { KilnError } from "../util/errors.js";
import { readTar } from "../tar/tar-reader.js";
import type { TarEntry } from "../tar/tar-header.js";
import { inUserNamespace, isOverlayXattr, overlayXattrPrefix } from "../rootless/namespace.js";
import { restoreXattrs, run } from "../fsutil/xattr.js";

const WH_PREFIX = ".wh.";
const WH_OPAQUE = ".wh..wh..opq";

function hostile(name: string, why: string): KilnError {
  return new KilnError("HOSTILE_LAYER", `layer entry "${name}" ${why}`, {
    hint: "the layer tar tries to write outside its root; the image is corrupt or malicious",
  });
}

/** Splits a tar name into safe relative components, or throws HOSTILE_LAYER. */
export function safeParts(name: string): string[] {
  if (name.startsWith("/") && name.replace(/\/+/g, "") !== "") throw hostile(name, "has an absolute path");
  if (name.includes("\0")) throw hostile(name, "contains a NUL byte");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw hostile(name, "contains a '..' component");
  return parts;
}

/** `layer` names the layer in errors (its digest, or the file it came from). */
export async function extractLayer(tar: Readable, dest: string, layer?: string): Promise<void> {
  const root = path.resolve(dest);
  if ((await readdir(root)).length !== 0) {
    throw new KilnError("EXTRACT_DEST_NOT_EMPTY", `cannot extract a layer into ${root}: directory is not empty`);
  }
  const x = new Extractor(root);
  for await (const { header, body } of readTar(tar)) {
    if (header.type === "char" && (header.devmajor ?? 0) === 0 && (header.devminor ?? 0) === 0) {
      // In the overlay form a 0:0 character device *is* a whiteout: stored as
      // it is, this entry would silently delete the same path of every lower
      // layer. No faithful form exists, so the layer is refused.
      throw new KilnError("UNREPRESENTABLE_LAYER", `${layer ? `layer ${layer}: ` : ""}entry "${header.name}" is a character device 0:0, which overlayfs would read as a whiteout`, {
        hint: "a whiteout in a layer tar is a .wh.NAME file; rebuild the image without this device node",
      });
    }
    await x.entry(header, body);
  }
  await x.finish();
}

class Extractor {
  readonly #root: string;
  /** Relative dirs already verified to be real directories (not symlinks). */
  #safeDirs = new Set<string>([""]);
  #dirTimes = new Map<string, number>();
  #xattrs = new Map<string, Map<string, Buffer>>();

  constructor(root: string) {
    this.#root = root;
  }

  async entry(h: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const parts = safeParts(h.name);
    if (parts.length === 0) {
      // The root itself ("./") is ignored, as containerd's apply does: a
      // snapshot's root stays 0755 root:root whatever mode the directory a
      // layer was tarred from had (often a 0700 mktemp dir), so no image can
      // hand every RUN a `/` that a non-root USER cannot enter.
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentRel = parts.slice(0, -1).join("/");
    await this.#ensureParent(h.name, parts.slice(0, -1));

    if (base === WH_OPAQUE) {
      this.#xattr(parentRel, `${overlayXattrPrefix()}opaque`, Buffer.from("y"));
      return;
    }
    if (base.startsWith(WH_PREFIX)) {
      const target = base.slice(WH_PREFIX.length);
      if (target === "" || target === "." || target === "..") throw hostile(h.name, "is a whiteout of an invalid name");
      const rel = parentRel ? `${parentRel}/${target}` : target;
      await this.#clear(rel);
      await run("mknod", ["-m", "0", this.#abs(rel), "c", "0", "0"]);
      return;
    }
    const rel = parts.join("/");
    const abs = this.#abs(rel);
    for (const [k] of h.xattrs ?? []) {
      // A layer must not forge overlay metadata (opaque, redirect, metacopy).
      if (isOverlayXattr(k)) h.xattrs!.delete(k);
    }

    switch (h.type) {
      case "directory": {
        const st = await lstat(abs).catch(() => null);
        if (st && !st.isDirectory()) await this.#clear(rel);
        if (!st || !st.isDirectory()) await mkdir(abs, { mode: 0o700 });
        this.#safeDirs.add(rel);
        await this.#applyMeta(rel, h);
        return;
      }
      case "file": {
        await this.#clear(rel);
        const fh = await open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) await fh.write(chunk);
          await fh.chown(h.uid, h.gid);
          await fh.chmod(h.mode); // after chown: chown clears setuid/setgid
          await fh.utimes(h.mtime, h.mtime);
        } finally {
          await fh.close();
        }
        break;
      }
      case "symlink":
        await this.#clear(rel);
        await symlink(h.linkname ?? "", abs);
        await lchown(abs, h.uid, h.gid);
        await lutimes(abs, h.mtime, h.mtime);
        break;
      case "link": {
        let tparts: string[];
        try {
          tparts = safeParts(h.linkname ?? "");
        } catch {
          throw hostile(h.name, `is a hardlink to "${h.linkname}", outside the layer`);
        }
        if (tparts.length === 0) throw hostile(h.name, `is a hardlink to the layer root`);
        const trel = tparts.join("/");
        await this.#ensureParent(h.name, tparts.slice(0, -1), false);
        const tst = await lstat(this.#abs(trel)).catch(() => null);
        if (!tst) throw hostile(h.name, `is a hardlink to "${h.linkname}", which is not in the layer`);
        if (tst.isDirectory()) throw hostile(h.name, `is a hardlink to directory "${h.linkname}"`);
        if (trel === rel) return;
        await this.#clear(rel);
        await link(this.#abs(trel), abs);
        break;
      }
      case "char":
      case "block":
      case "fifo": {
        await this.#clear(rel);
        if (h.type !== "fifo" && inUserNamespace()) {
          // Without root no device node can be made (mknod needs CAP_MKNOD in
          // the initial namespace). An empty file keeps the path, owner and
          // mode; the base layer's blob is still the image's own, and RUN
          // gets its own /dev anyway.
          await writeFile(abs, "", { mode: 0o600, flag: "wx" });
          await this.#applyMeta(rel, h);
          break;
        }
        const args =
          h.type === "fifo"
            ? [abs, "p"]
            : [abs, h.type === "char" ? "c" : "b", String(h.devmajor ?? 0), String(h.devminor ?? 0)];
        await run("mknod", ["-m", "0600", ...args]);
        await this.#applyMeta(rel, h);
        break;
      }
    }
    if (h.xattrs?.size) for (const [k, v] of h.xattrs) this.#xattr(rel, k, v);
  }

  async finish(): Promise<void> {
    // xattrs last: chown would clear security.capability.
    await restoreXattrs([...this.#xattrs].map(([rel, m]) => [this.#abs(rel), m] as [string, Map<string, Buffer>]));
    // Directory mtimes last and deepest first: creating children changes them.
    const dirs = [...this.#dirTimes].sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
    for (const [rel, t] of dirs) await lutimes(this.#abs(rel), t, t);
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : path.join(this.#root, rel);
  }

  #xattr(rel: string, k: string, v: Buffer): void {
    let m = this.#xattrs.get(rel);
    if (!m) this.#xattrs.set(rel, (m = new Map()));
    m.set(k, v);
  }

  async #applyMeta(rel: string, h: TarEntry): Promise<void> {
    const abs = this.#abs(rel);
    await chown(abs, h.uid, h.gid);
    await chmod(abs, h.mode);
    if (h.type === "directory") {
      this.#dirTimes.set(rel, h.mtime);
      if (h.xattrs?.size) for (const [k, v] of h.xattrs) if (!isOverlayXattr(k)) this.#xattr(rel, k, v);
    } else await lutimes(abs, h.mtime, h.mtime);
  }

  /**
   * Makes sure every component of `dirParts` is a real directory inside
   * root, creating missing ones (tars may omit parents) unless `create` is
   * false. A symlink or non-directory on the way is hostile.
   */
  async #ensureParent(name: string, dirParts: string[], create = true): Promise<void> {
    let rel = "";
    for (const p of dirParts) {
      rel = rel ? `${rel}/${p}` : p;
      if (this.#safeDirs.has(rel)) continue;
      const st = await lstat(this.#abs(rel)).catch(() => null);
      if (!st) {
        if (!create) throw hostile(name, `refers to "${rel}", which is not in the layer`);
        // Explicit chmod: mkdir's mode is cut by the umask, and an implied
        // directory must come out the same on every machine.
        await mkdir(this.#abs(rel), { mode: 0o755 });
        await chmod(this.#abs(rel), 0o755);
      } else if (st.isSymbolicLink()) {
        throw hostile(name, `has a parent "${rel}" that is a symlink`);
      } else if (!st.isDirectory()) {
        throw hostile(name, `has a parent "${rel}" that is not a directory`);
      }
      this.#safeDirs.add(rel);
    }
  }

  /** Removes whatever is at rel (a later entry replaces an earlier one). */
  async #clear(rel: string): Promise<void> {
    const abs = this.#abs(rel);
    const st = await lstat(abs).catch(() => null);
    if (!st) return;
    if (st.isDirectory()) {
      await rm(abs, { recursive: true, force: true });
      for (const d of [...this.#safeDirs]) if (d === rel || d.startsWith(`${rel}/`)) this.#safeDirs.delete(d);
      for (const d of [...this.#dirTimes.keys()]) if (d === rel || d.startsWith(`${rel}/`)) this.#dirTimes.delete(d);
      for (const d of [...this.#xattrs.keys()]) if (d === rel || d.startsWith(`${rel}/`)) this.#xattrs.delete(d);
    } else {
      await unlink(abs);
      this.#xattrs.delete(rel);
    }
  }
}

/**
 * Wraps a possibly compressed layer stream, sniffing gzip (1f 8b) or zstd
 * (28 b5 2f fd) magic; anything else is passed through as a plain tar.
 * zstd is decoded by spawning `zstd -dc` (Node 20 has no zstd).
 */
export async function decompressedStream(input: Readable): Promise<Readable> {
  const { head, stream: src } = await peek(input, 4);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    src.on("error", (e) => gunzip.destroy(e));
    return src.pipe(gunzip);
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) {
    const child = spawn("zstd", ["-dc", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const out = child.stdout;
    src.on("error", (e) => out.destroy(e));
    child.stdin.on("error", () => {}); // EPIPE if zstd exits early; reported via its exit code
    child.on("error", (e) => out.destroy(new KilnError("COMMAND_FAILED", `zstd: ${e.message}`, { cause: e })));
    child.on("close", (code) => {
      if (code !== 0) out.destroy(new KilnError("BAD_LAYER", `zstd -dc exited ${code}: ${stderr.trim()}`));
    });
    src.pipe(child.stdin);
    return out;
  }
  return src;
}

/** Reads the first n bytes without losing them: returns them and a stream that still starts with them. */
async function peek(src: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      src.off("readable", onReadable);
      src.off("end", onEnd);
      src.off("error", onError);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (buf.length < n && (chunk = src.read() as Buffer | null) !== null) buf = Buffer.concat([buf, chunk]);
      if (buf.length >= n) {
        cleanup();
        src.unshift(buf);
        resolve({ head: buf.subarray(0, n), stream: src });
      }
    };
    const onEnd = (): void => {
      // Too short to unshift into an ended stream: hand back a new one.
      cleanup();
      resolve({ head: buf, stream: Readable.from([buf]) });
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    src.on("readable", onReadable);
    src.on("end", onEnd);
    src.on("error", onError);
  });
}
