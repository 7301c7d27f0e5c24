// `kiln tag`, `kiln rmi`, `kiln image prune`, `kiln du`.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { parseFlags } from "./flags.js";
import { snapshotSizes } from "../cache/prune.js";
import { StepRecords } from "../cache/records.js";
import type { ImageConfig } from "../oci/config.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { collectGarbage, type GcResult } from "../store/gc.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { normalizeTagName, type ImageRef } from "../store/refs.js";
import { chainIds, SnapshotIndex } from "../store/snapshot-index.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { formatBytes, table } from "./format.js";
import { imageRows, shortId, untilCutoff, walkBlobs, formatItems } from "./image-rows.js";

export async function requireImage(store: Store, name: string): Promise<ResolvedImage> {
  const img = await store.resolveImage(name);
  if (!img) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${name}`, { hint: "kiln images lists the images in the store" });
  return img;
}

/** The ref `name` denotes, when it is a name (not an ID). */
export async function refNamed(store: Store, name: string): Promise<ImageRef | undefined> {
  let full: string;
  try {
    full = normalizeTagName(name);
  } catch {
    return undefined;
  }
  return (await store.listImages()).find((r) => r.name === full);
}

export async function tagCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { positionals } = parseFlags({ command: "tag", args: argv, allowPositionals: true, options: {} });
  if (positionals.length !== 2) throw new KilnError("USAGE", "kiln tag needs SOURCE and TARGET", { hint: "e.g. kiln tag myapp:1 registry.example.com/myapp:1" });
  const [src, dst] = positionals as [string, string];
  // A name keeps what it points at (a whole multi-platform index); an ID names one manifest.
  const ref = await refNamed(store, src);
  const desc = ref?.descriptor ?? (await requireImage(store, src)).manifestDescriptor;
  const { annotations: _drop, ...plain } = desc;
  await store.tag(dst, plain);
  void io;
  return 0;
}

export async function rmiCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "rmi",
    args: argv,
    allowPositionals: true,
    options: { force: { type: "boolean", short: "f" }, "no-prune": { type: "boolean" } },
  });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln rmi needs at least one IMAGE", { hint: "e.g. kiln rmi myapp:1" });
  const force = values.force ?? false;
  let failed = false;
  const removed = new Set<string>();
  for (const arg of positionals) {
    try {
      const refs = await store.listImages();
      const byName = await refNamed(store, arg);
      if (byName) {
        // docker: removing a name only untags; the image goes with its last name.
        await store.untag(byName.name);
        io.out(`Untagged: ${familiarReference(parseReference(byName.name))}\n`);
        if (!refs.some((r) => r.name !== byName.name && r.descriptor.digest === byName.descriptor.digest)) removed.add(byName.descriptor.digest);
        continue;
      }
      const img = await requireImage(store, arg);
      const id = img.manifestDescriptor.digest;
      const named = refs.filter((r) => r.descriptor.digest === id || (img.name !== undefined && r.name === img.name));
      if (named.length > 1 && !force) {
        throw new KilnError("CONFLICT", `unable to delete ${shortId(id, false)} (must be forced): it is referenced by ${named.length} names (${named.map((r) => familiarReference(parseReference(r.name))).join(", ")})`, {
          hint: "remove the names one by one, or use kiln rmi -f",
        });
      }
      const children = await dependents(store, img, new Set(named.map((r) => r.name)));
      if (children.length && !force) {
        throw new KilnError("CONFLICT", `unable to delete ${shortId(id, false)}: image is the base of ${children.map((c) => familiarReference(parseReference(c))).join(", ")}`, {
          hint: "remove those images first, or use kiln rmi -f (their layers are kept)",
        });
      }
      for (const r of named) {
        await store.untag(r.name);
        io.out(`Untagged: ${familiarReference(parseReference(r.name))}\n`);
      }
      for (const r of named) removed.add(r.descriptor.digest);
      removed.add(id);
    } catch (err) {
      if (!(err instanceof KilnError)) throw err;
      io.err(`error: ${err.format()}\n`);
      failed = true;
    }
  }
  if (removed.size && !values["no-prune"]) {
    const stillNamed = new Set((await store.listImages()).map((r) => r.descriptor.digest as string));
    await gc(store);
    for (const d of removed) if (!stillNamed.has(d) && !(await store.hasBlob(d as Digest))) io.out(`Deleted: ${d}\n`);
  }
  return failed ? 1 : 0;
}

/** Tagged images (other than `except`) built on top of `img`: its layers are a strict prefix of theirs. */
async function dependents(store: Store, img: ResolvedImage, except: Set<string>): Promise<string[]> {
  const mine = img.config.rootfs.diff_ids;
  if (mine.length === 0) return [];
  const out: string[] = [];
  for (const r of await store.listImages()) {
    if (except.has(r.name)) continue;
    const other = await store.resolveImage(r.name).catch(() => undefined);
    const theirs = other?.config.rootfs.diff_ids ?? [];
    if (theirs.length > mine.length && mine.every((d, i) => theirs[i] === d)) out.push(r.name);
  }
  return out;
}

export function gc(store: Store): Promise<GcResult> {
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const records = new StepRecords(store.paths.cache, store.paths.tmp);
  return withStoreLock(store.root, () => collectGarbage(store, snapshots, records), { name: GC_LOCK });
}

// ---------------------------------------------------------------- prune

/** Manifests in the blob store that no name reaches: docker's dangling images. */
async function danglingManifests(store: Store): Promise<{ digest: Digest }[]> {
  const reachable = new Map<string, number>();
  for (const r of await store.listImages()) await walkBlobs(store, r.descriptor, reachable);
  const out: { digest: Digest }[] = [];
  const dir = path.join(store.paths.blobs, "sha256");
  for (const hex of await readdir(dir)) {
    const d = `sha256:${hex}`;
    if (!isDigest(d) || reachable.has(d)) continue;
    const st = await stat(path.join(dir, hex)).catch(() => undefined);
    if (!st || st.size > 4 << 20) continue; // manifests are small; layers are not
    const head = await store.readBlob(d).catch(() => undefined);
    if (!head || head[0] !== 0x7b) continue; // not JSON: a layer
    const m = await store.readJson<ImageManifest>(d).catch(() => undefined);
    if (!m || typeof m !== "object" || !m.config?.digest || !Array.isArray(m.layers)) continue;
    const config = await store.readJson<ImageConfig>(m.config.digest).catch(() => undefined);
    if (!config?.rootfs) continue;
    out.push({ digest: d });
  }
  return out;
}

export async function imagePruneCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags({ command: "image prune",
    args: argv,
    options: { all: { type: "boolean", short: "a" }, force: { type: "boolean", short: "f" }, filter: { type: "string", multiple: true } },
  });
  const filters = values.filter ?? [];
  for (const f of filters) {
    if (!/^(until|label)=/.test(f)) throw new KilnError("USAGE", `unsupported --filter "${f}"`, { hint: "use --filter until=24h or --filter label=KEY[=VALUE]" });
  }
  if (!values.force) {
    // As docker: ask, and read the answer from stdin (a closed or absent stdin is "no").
    io.out(values.all ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] " : "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ");
    if (!/^y(es)?$/i.test((await readAnswer(io.stdin)).trim())) {
      io.out("\n");
      io.err("image prune cancelled: nothing removed (-f skips the question)\n");
      return 0;
    }
  }
  const keep = (created: string | undefined, labels: Readonly<Record<string, string>>): boolean => {
    for (const f of filters) {
      const v = f.slice(f.indexOf("=") + 1);
      if (f.startsWith("until=") && !(Date.parse(created ?? "") < untilCutoff(v))) return true;
      if (f.startsWith("label=")) {
        const le = v.indexOf("=");
        const k = le < 0 ? v : v.slice(0, le);
        if (!(k in labels) || (le >= 0 && labels[k] !== v.slice(le + 1))) return true;
      }
    }
    return false;
  };
  const deleted = new Set<string>();
  let out = "";
  if (values.all) {
    for (const row of await imageRows(store)) {
      if (keep(row.created, row.image?.config.config?.Labels ?? {})) continue;
      await store.untag(row.ref.name);
      out += `untagged: ${row.repository}:${row.tag}\n`;
      deleted.add(row.digest);
    }
  }
  // Untagged manifests are garbage in kiln (nothing keeps them), so every
  // dangling image goes, whatever the filters; they select named images (-a).
  for (const d of await danglingManifests(store)) deleted.add(d.digest);
  const r = await gc(store);
  const gone = [];
  for (const d of deleted) if (!(await store.hasBlob(d as Digest))) gone.push(d);
  if (gone.length) out = `Deleted Images:\n${out}${gone.map((d) => `deleted: ${d}\n`).join("")}\n`;
  io.out(`${out}Total reclaimed space: ${formatBytes(r.bytes)}\n`);
  return 0;
}

// ---------------------------------------------------------------- du

export async function duCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags({ command: "du", args: argv, options: { verbose: { type: "boolean", short: "v" }, format: { type: "string" } } });
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const records = new StepRecords(store.paths.cache, store.paths.tmp);
  const refs = await store.listImages();

  // Blobs: what names reach vs the rest.
  const reachable = new Map<string, number>();
  const activeChains = new Set<string>();
  const perImage: { name: string; size: number; id: string }[] = [];
  for (const r of refs) {
    const mine = new Map<string, number>();
    await walkBlobs(store, r.descriptor, mine);
    for (const [d, s] of mine) reachable.set(d, s);
    perImage.push({ name: familiarReference(parseReference(r.name)), size: [...mine.values()].reduce((n, s) => n + s, 0), id: r.descriptor.digest });
    const img = await store.resolveImage(r.name).catch(() => undefined);
    for (const c of chainIds(img?.config.rootfs.diff_ids ?? [])) activeChains.add(snapshots.idOf(c));
  }
  let blobBytes = 0;
  let looseCount = 0;
  let looseBytes = 0;
  const dir = path.join(store.paths.blobs, "sha256");
  for (const hex of await readdir(dir)) {
    const st = await stat(path.join(dir, hex)).catch(() => undefined);
    if (!st) continue;
    blobBytes += st.size;
    if (!reachable.has(`sha256:${hex}`)) {
      looseCount++;
      looseBytes += st.size;
    }
  }
  const imageBytes = blobBytes - looseBytes;

  // Snapshots: extracted layers; the build cache's are those no image uses.
  const sizes = await snapshotSizes(snapshots);
  let snapBytes = 0;
  let activeSnapBytes = 0;
  let snapCount = 0;
  for (const [id, s] of sizes) {
    if (id.startsWith(".")) continue;
    snapCount++;
    snapBytes += s;
    if (activeChains.has(id)) activeSnapBytes += s;
  }
  const recs = await records.list();
  const uniqueImages = new Set(refs.map((r) => r.descriptor.digest)).size;
  const rows = [
    { Type: "Images", Total: String(uniqueImages), Active: String(refs.length), Size: formatBytes(imageBytes), Reclaimable: "0B" },
    { Type: "Unnamed blobs", Total: String(looseCount), Active: "-", Size: formatBytes(looseBytes), Reclaimable: formatBytes(looseBytes) },
    { Type: "Snapshots", Total: String(snapCount), Active: String([...sizes.keys()].filter((k) => activeChains.has(k)).length), Size: formatBytes(snapBytes), Reclaimable: formatBytes(snapBytes - activeSnapBytes) },
    { Type: "Build cache", Total: String(recs.length), Active: "-", Size: formatBytes(snapBytes - activeSnapBytes), Reclaimable: formatBytes(snapBytes - activeSnapBytes) },
  ];
  if (values.format) {
    io.out(formatItems(values.format, rows, {}));
    return 0;
  }
  io.out(table([["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], ...rows.map((r) => [r.Type, r.Total, r.Active, r.Size, r.Reclaimable])]));
  if (values.verbose) {
    io.out(`\nImages:\n`);
    io.out(table([["NAME", "IMAGE ID", "SIZE"], ...perImage.map((p) => [p.name, shortId(p.id, false), formatBytes(p.size)])]));
  }
  return 0;
}

// ---------------------------------------------------------------- save, load

/** One line from `input` (an empty answer when there is none or it ends first). */
async function readAnswer(input: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!input) return "";
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      input.off("data", onData).off("end", done).off("error", done);
      input.pause();
      resolve(text.split("\n")[0] ?? "");
    };
    const onData = (d: Buffer | string) => {
      text += d.toString();
      if (text.includes("\n")) done();
    };
    input.on("data", onData).once("end", done).once("error", done);
  });
}
