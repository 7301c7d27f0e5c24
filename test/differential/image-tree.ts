// The root filesystem and config of an image in a `docker save` tar (kiln's
// type=docker output has the same shape), read without extracting: layers
// are applied in order in memory (whiteouts and opaque dirs as the OCI
// layer spec says), each path keeps type, mode, owner, content digest, link
// target, hard-link group and xattrs. mtimes are not kept: the builders
// stamp their own times.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import tar from "tar-stream";

export interface Entry {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo";
  mode: string;
  owner: string;
  sha256?: string;
  size?: number;
  linkname?: string;
  /** The first path of its hard-link group, for a file linked to another. */
  linkGroup?: string;
  xattrs?: Record<string, string>;
}

export interface SavedImage {
  config: Record<string, unknown>;
  /** Absolute path ("/etc/passwd") → entry, "/" excluded. */
  tree: Map<string, Entry>;
  layers: number;
}

/**
 * Every member of a tar as name → bytes (docker-save tars are small here).
 * docker save stores a layer that occurs twice (an empty one, say) once and
 * makes the second `layer.tar` a symlink to the first: those resolve too.
 */
async function members(source: Readable): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const links = new Map<string, string>();
  const ex = tar.extract();
  ex.on("entry", (h, stream, next) => {
    const chunks: Buffer[] = [];
    const name = h.name.replace(/^\.\//, "");
    stream.on("data", (c: unknown) => chunks.push(c as Buffer));
    stream.on("end", () => {
      if (h.type === "file") out.set(name, Buffer.concat(chunks));
      else if (h.type === "symlink" && h.linkname) links.set(name, path.posix.join(path.posix.dirname(name), h.linkname));
      next();
    });
  });
  await pipeline(source, ex);
  for (const [name, target] of links) {
    const bytes = out.get(target);
    if (bytes) out.set(name, bytes);
  }
  return out;
}

const TYPES: Record<string, Entry["type"]> = { file: "file", directory: "dir", symlink: "symlink", "character-device": "char", "block-device": "block", fifo: "fifo" };

function under(p: string, dir: string): boolean {
  return dir === "/" ? p !== "/" : p.startsWith(`${dir}/`);
}

/** Applies one layer tar to `tree` (hard links resolved against this layer and the ones below). */
async function applyLayer(tree: Map<string, Entry>, layer: Buffer): Promise<void> {
  const gz = layer[0] === 0x1f && layer[1] === 0x8b;
  const ex = tar.extract();
  const opaque: string[] = [];
  const added = new Set<string>();
  ex.on("entry", (h, stream, next) => {
    const p = path.posix.join("/", h.name).replace(/(.)\/+$/, "$1");
    const base = path.posix.basename(p);
    const dir = path.posix.dirname(p);
    const hash = createHash("sha256");
    stream.on("data", (c: unknown) => hash.update(c as Buffer));
    stream.on("end", () => {
      if (base === ".wh..wh..opq") opaque.push(dir);
      else if (base.startsWith(".wh.")) {
        const gone = path.posix.join(dir, base.slice(4));
        for (const k of [...tree.keys()]) if (k === gone || under(k, gone)) tree.delete(k);
      } else if (p !== "/") {
        // A path replaced by an entry of another type loses what was under it.
        const old = tree.get(p);
        if (old && old.type === "dir" && h.type !== "directory") for (const k of [...tree.keys()]) if (under(k, p)) tree.delete(k);
        const xattrs = Object.fromEntries(Object.entries(h.pax ?? {}).filter(([k]) => k.startsWith("SCHILY.xattr.")).map(([k, v]) => [k.slice(13), v]));
        const meta = { mode: ((h.mode ?? 0) & 0o7777).toString(8).padStart(4, "0"), owner: `${h.uid ?? 0}:${h.gid ?? 0}`, ...(Object.keys(xattrs).length ? { xattrs } : {}) };
        if (h.type === "link") {
          const target = path.posix.join("/", h.linkname ?? "").replace(/(.)\/+$/, "$1");
          const t = tree.get(target);
          if (t) {
            t.linkGroup ??= target;
            tree.set(p, { ...t, ...meta, linkGroup: t.linkGroup });
          }
        } else {
          const type = TYPES[h.type ?? "file"] ?? "file";
          tree.set(p, {
            type,
            ...meta,
            ...(type === "file" ? { sha256: hash.digest("hex"), size: h.size ?? 0 } : {}),
            ...(type === "symlink" ? { linkname: h.linkname ?? "" } : {}),
          });
        }
        added.add(p);
      }
      next();
    });
  });
  await pipeline(gz ? Readable.from(layer).pipe(createGunzip()) : Readable.from(layer), ex);
  // An opaque dir hides what the layers below had under it.
  for (const d of opaque) for (const k of [...tree.keys()]) if (under(k, d) && !added.has(k)) tree.delete(k);
}

export async function readSavedImage(file: string): Promise<SavedImage> {
  const files = await members(createReadStream(file));
  const manifest = JSON.parse(files.get("manifest.json")!.toString("utf8")) as { Config: string; Layers: string[] }[];
  const m = manifest[0]!;
  const tree = new Map<string, Entry>();
  for (const l of m.Layers) {
    const layer = files.get(l);
    if (!layer) throw new Error(`${file}: layer ${l} is not in the tar`);
    await applyLayer(tree, layer);
  }
  // Hard-link groups by their members' paths: the first member names the group.
  const groups = new Map<string, string[]>();
  for (const [p, e] of tree) if (e.linkGroup) groups.set(e.linkGroup, [...(groups.get(e.linkGroup) ?? []), p]);
  for (const [, ps] of groups) {
    const first = ps.sort()[0]!;
    for (const p of ps) {
      if (ps.length > 1) tree.get(p)!.linkGroup = first;
      else delete tree.get(p)!.linkGroup;
    }
  }
  return { config: JSON.parse(files.get(m.Config)!.toString("utf8")) as Record<string, unknown>, tree, layers: m.Layers.length };
}
