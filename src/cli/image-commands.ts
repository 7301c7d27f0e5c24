// The docker-style image management commands: images, inspect, history,
// tag, rmi, image prune, du, save, load. Same shape as every command:
// (store, argv, io) -> exit code. In kiln an image lives only as long as a
// name (a ref in index.json) reaches it; removing the last name and
// collecting garbage is what deleting an image means.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { snapshotSizes } from "../cache/prune.js";
import { StepRecords } from "../cache/records.js";
import { dockerArchiveEntries } from "../export/docker-archive.js";
import { type TreeEntry, writeTarFile } from "../export/file-tree.js";
import { ociLayoutEntries } from "../export/oci-layout.js";
import { loadArchive } from "../import/load-archive.js";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { collectGarbage, type GcResult } from "../store/gc.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { normalizeTagName, type ImageRef } from "../store/refs.js";
import { chainIds, SnapshotIndex } from "../store/snapshot-index.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { ago, formatBytes, parseDuration, table } from "./format.js";
import { parseTemplate } from "./go-template.js";
import { layerHistory, layerReport } from "./layer-report.js";

// ---------------------------------------------------------------- listing

/** One named image as `kiln images` and the filters see it. */
interface ImageRow {
  readonly ref: ImageRef;
  readonly repository: string;
  readonly tag: string;
  /** The digest the name points at (an index for multi-platform images). */
  readonly digest: Digest;
  readonly image?: ResolvedImage;
  readonly size: number;
  readonly created?: string;
}

async function imageRows(store: Store): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  for (const ref of await store.listImages()) {
    const r = parseReference(ref.name);
    const image = await store.resolveImage(ref.name).catch(() => undefined);
    const size = image ? await imageSize(store, ref.descriptor) : 0;
    rows.push({
      ref,
      repository: familiarReference({ registry: r.registry, repository: r.repository }),
      tag: r.tag ?? "<none>",
      digest: ref.descriptor.digest,
      ...(image ? { image } : {}),
      size,
      ...(image?.config.created ? { created: image.config.created } : {}),
    });
  }
  return rows;
}

/** Bytes of every blob an image (or index) holds, each counted once. */
async function imageSize(store: Store, desc: Descriptor): Promise<number> {
  const seen = new Map<string, number>();
  await walkBlobs(store, desc, seen);
  return [...seen.values()].reduce((n, s) => n + s, 0);
}

async function walkBlobs(store: Store, d: Descriptor, seen: Map<string, number>): Promise<void> {
  if (seen.has(d.digest)) return;
  seen.set(d.digest, d.size);
  if (!(await store.hasBlob(d.digest))) return;
  if (isIndexMediaType(d.mediaType)) {
    for (const m of (await store.readJson<ImageIndex>(d.digest)).manifests) await walkBlobs(store, m, seen);
    return;
  }
  const m = await store.readJson<ImageManifest>(d.digest).catch(() => undefined);
  if (!m?.config) return;
  for (const b of [m.config, ...m.layers]) seen.set(b.digest, b.size);
}

function shortId(d: string, noTrunc: boolean): string {
  return noTrunc ? d : d.slice(7, 19);
}

/** docker's filter glob (Go path.Match): `*` and `?` never cross a `/`. */
function globRegex(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`);
}

async function filterRows(store: Store, rows: ImageRow[], filters: readonly string[]): Promise<ImageRow[]> {
  let out = rows;
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? "" : f.slice(eq + 1);
    switch (key) {
      case "reference": {
        const re = globRegex(value);
        out = out.filter((r) => re.test(r.repository) || re.test(`${r.repository}:${r.tag}`));
        break;
      }
      case "dangling":
        // Untagged images are never listed: kiln keeps an image only while a name reaches it.
        if (value !== "true" && value !== "false") throw new KilnError("USAGE", `dangling filter must be true or false, not "${value}"`);
        if (value === "true") out = [];
        break;
      case "label": {
        const le = value.indexOf("=");
        const lk = le < 0 ? value : value.slice(0, le);
        out = out.filter((r) => {
          const labels = r.image?.config.config?.Labels ?? {};
          return lk in labels && (le < 0 || labels[lk] === value.slice(le + 1));
        });
        break;
      }
      case "before":
      case "since": {
        const pivot = await store.resolveImage(value);
        if (!pivot) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${value}`, { hint: "kiln images lists the images in the store" });
        const t = Date.parse(pivot.config.created ?? "");
        out = out.filter((r) => {
          const c = Date.parse(r.created ?? "");
          return key === "before" ? c < t : c > t;
        });
        break;
      }
      case "until": {
        const cutoff = untilCutoff(value);
        out = out.filter((r) => Date.parse(r.created ?? "") < cutoff);
        break;
      }
      default:
        throw new KilnError("USAGE", `unsupported filter "${f}"`, { hint: "use reference=, dangling=, label=, before=, since= or until=" });
    }
  }
  return out;
}

/** until=24h (a duration before now) or an RFC 3339 time / unix seconds. */
function untilCutoff(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  return Date.now() - parseDuration(value);
}

/** Runs a --format TEMPLATE over items: "json" (one object per line), "table …" (aligned, with headers), or a plain template per line. */
function formatItems(format: string, items: readonly Record<string, unknown>[], headers: Record<string, string>): string {
  if (format === "json") return items.map((i) => `${JSON.stringify(i)}\n`).join("");
  const isTable = format.startsWith("table");
  // docker users write a literal \t in shell quotes; it means a tab.
  const body = (isTable ? format.slice(5).trim() : format).replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const tpl = parseTemplate(body);
  if (!isTable) return items.map((i) => `${tpl.execute(i)}\n`).join("");
  const header = body.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, f: string) => headers[f] ?? f.toUpperCase()).split("\t");
  return table([header, ...items.map((i) => tpl.execute(i).split("\t"))]);
}

export async function imagesCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quiet: { type: "boolean", short: "q" },
      all: { type: "boolean", short: "a" },
      digests: { type: "boolean" },
      "no-trunc": { type: "boolean" },
      filter: { type: "string", short: "f", multiple: true },
      format: { type: "string" },
    },
  });
  if (positionals.length > 1) throw new KilnError("USAGE", "kiln images takes at most one REPOSITORY[:TAG]");
  const filters = [...(values.filter ?? []), ...positionals.map((p) => `reference=${p}`)];
  const rows = (await filterRows(store, await imageRows(store), filters)).sort(
    (a, b) => Date.parse(b.created ?? "") - Date.parse(a.created ?? "") || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag),
  );
  const noTrunc = values["no-trunc"] ?? false;
  if (values.quiet) {
    const ids = [...new Set(rows.map((r) => shortId(r.digest, noTrunc)))];
    io.out(ids.map((i) => `${i}\n`).join(""));
    return 0;
  }
  const items = rows.map((r) => ({
    Containers: "N/A",
    CreatedAt: r.created ?? "",
    CreatedSince: r.created ? ago(r.created) : "N/A",
    Digest: r.digest,
    ID: shortId(r.digest, noTrunc),
    Repository: r.repository,
    SharedSize: "N/A",
    Size: formatBytes(r.size),
    Tag: r.tag,
    UniqueSize: "N/A",
    VirtualSize: formatBytes(r.size),
  }));
  if (values.format) {
    io.out(formatItems(values.format, items, { ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT" }));
    return 0;
  }
  const header = ["REPOSITORY", "TAG", ...(values.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
  io.out(table([header, ...items.map((i) => [i.Repository, i.Tag, ...(values.digests ? [i.Digest] : []), i.ID, i.CreatedSince, i.Size])]));
  return 0;
}

// ---------------------------------------------------------------- inspect

async function inspectObject(store: Store, img: ResolvedImage): Promise<Record<string, unknown>> {
  const refs = await store.listImages();
  const mine = refs.filter((r) => r.descriptor.digest === img.manifestDescriptor.digest || (img.name !== undefined && r.name === img.name));
  const tags = [...new Set(mine.map((r) => familiarReference(parseReference(r.name))))];
  const repoDigests = [...new Set(mine.map((r) => {
    const p = parseReference(r.name);
    return familiarReference({ registry: p.registry, repository: p.repository, digest: r.descriptor.digest });
  }))];
  const c = img.config;
  return {
    Id: img.manifestDescriptor.digest,
    RepoTags: tags,
    RepoDigests: repoDigests,
    Parent: "",
    Comment: c.history?.at(-1)?.comment ?? "",
    Created: c.created ?? "",
    Author: c.author ?? "",
    Config: c.config ?? {},
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
    RootFS: { Type: "layers", Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: "" },
    Descriptor: { mediaType: img.manifestDescriptor.mediaType, digest: img.manifestDescriptor.digest, size: img.manifestDescriptor.size },
    Manifest: img.manifest,
    History: c.history ?? [],
  };
}

export async function inspectCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: "string", short: "f" }, type: { type: "string" } } });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln inspect needs at least one IMAGE", { hint: 'e.g. kiln inspect --format "{{.Id}}" busybox' });
  const tpl = values.format && values.format !== "json" ? parseTemplate(values.format) : undefined;
  const out: Record<string, unknown>[] = [];
  let failed = false;
  for (const name of positionals) {
    const img = await store.resolveImage(name);
    if (!img) {
      io.err(`error: no such image: ${name}\n`);
      failed = true;
      continue;
    }
    out.push(await inspectObject(store, img));
  }
  if (tpl) io.out(out.map((o) => `${tpl.execute(o)}\n`).join(""));
  else if (values.format === "json") io.out(out.map((o) => `${JSON.stringify(o)}\n`).join(""));
  else io.out(`${JSON.stringify(out, null, 4)}\n`);
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- history

export async function historyCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "no-trunc": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      format: { type: "string" },
      wasted: { type: "boolean" },
      human: { type: "boolean", short: "H", default: true },
    },
  });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln history needs exactly one IMAGE", { hint: "e.g. kiln history --no-trunc myapp:1" });
  const img = await requireImage(store, positionals[0]!);
  const noTrunc = values["no-trunc"] ?? false;
  const report = await layerReport(store, img);
  const history = img.config.history?.length ? img.config.history : layerHistory(undefined, img.manifest.layers.length);
  // Pair history entries with layers: empty_layer entries take none.
  let li = 0;
  const entries = history.map((h) => {
    const layer = h.empty_layer ? undefined : report.layers[li++];
    return { h, layer };
  });
  entries.reverse(); // newest first, like docker
  const items = entries.map(({ h, layer }, i) => {
    const createdBy = h.created_by ?? "";
    return {
      ID: i === 0 ? shortId(img.manifestDescriptor.digest, noTrunc) : "<missing>",
      CreatedAt: h.created ?? "",
      CreatedSince: h.created ? ago(h.created) : "N/A",
      CreatedBy: noTrunc || createdBy.length <= 45 ? createdBy : `${createdBy.slice(0, 44)}…`,
      Size: formatBytes(layer?.size ?? 0),
      Wasted: layer && layer.wasted > 0 ? formatBytes(layer.wasted) : "",
      Comment: h.comment ?? "",
    };
  });
  if (values.quiet) {
    io.out(`${items[0]?.ID ?? ""}\n`);
    return 0;
  }
  if (values.format) {
    io.out(formatItems(values.format, items, { ID: "IMAGE", CreatedSince: "CREATED", CreatedBy: "CREATED BY", CreatedAt: "CREATED AT" }));
    return 0;
  }
  const header = ["IMAGE", "CREATED", "CREATED BY", "SIZE", ...(values.wasted ? ["WASTED"] : []), "COMMENT"];
  io.out(table([header, ...items.map((i) => [i.ID, i.CreatedSince, i.CreatedBy, i.Size, ...(values.wasted ? [i.Wasted] : []), i.Comment])]));
  if (values.wasted) {
    io.out(`\n${formatBytes(report.totalSize)} in ${report.layers.length} layers, ${formatBytes(report.totalWasted)} wasted (files that later layers overwrite or delete)\n`);
    for (const h of report.hints) io.out(`hint: ${formatBytes(h.bytes)} wasted: ${h.message}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------- tag, rmi

async function requireImage(store: Store, name: string): Promise<ResolvedImage> {
  const img = await store.resolveImage(name);
  if (!img) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${name}`, { hint: "kiln images lists the images in the store" });
  return img;
}

/** The ref `name` denotes, when it is a name (not an ID). */
async function refNamed(store: Store, name: string): Promise<ImageRef | undefined> {
  let full: string;
  try {
    full = normalizeTagName(name);
  } catch {
    return undefined;
  }
  return (await store.listImages()).find((r) => r.name === full);
}

export async function tagCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
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
  const { values, positionals } = parseArgs({
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

function gc(store: Store): Promise<GcResult> {
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
  const { values } = parseArgs({
    args: argv,
    options: { all: { type: "boolean", short: "a" }, force: { type: "boolean", short: "f" }, filter: { type: "string", multiple: true } },
  });
  const filters = values.filter ?? [];
  for (const f of filters) {
    if (!/^(until|label)=/.test(f)) throw new KilnError("USAGE", `unsupported --filter "${f}"`, { hint: "use --filter until=24h or --filter label=KEY[=VALUE]" });
  }
  if (values.all && !values.force) {
    // docker asks for confirmation; kiln never reads the terminal, so it wants -f.
    throw new KilnError("USAGE", "kiln image prune -a removes every named image that matches the filters; add -f to confirm", {
      hint: "kiln image prune -a -f [--filter until=24h]",
    });
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
  const { values } = parseArgs({ args: argv, options: { verbose: { type: "boolean", short: "v" }, format: { type: "string" } } });
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

export async function saveCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { output: { type: "string", short: "o" }, format: { type: "string" } },
  });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln save needs at least one IMAGE", { hint: "e.g. kiln save -o app.tar myapp:1" });
  if (!values.output) throw new KilnError("USAGE", "kiln save needs -o FILE", { hint: "e.g. kiln save -o app.tar myapp:1" });
  const format = values.format ?? "docker";
  if (format !== "docker" && format !== "oci") throw new KilnError("USAGE", `--format must be docker or oci, not "${format}"`);
  // Group the names by image, so one image saved under two names is stored once.
  const groups = new Map<string, { image: ResolvedImage; names: string[] }>();
  for (const arg of positionals) {
    const image = await requireImage(store, arg);
    const g = groups.get(image.manifestDescriptor.digest) ?? { image, names: [] };
    if (await refNamed(store, arg)) g.names.push(normalizeTagName(arg));
    groups.set(image.manifestDescriptor.digest, g);
  }
  const files = new Map<string, TreeEntry>();
  const manifestJson: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const indexEntries: Descriptor[] = [];
  for (const { image, names } of groups.values()) {
    const entries =
      format === "docker"
        ? await dockerArchiveEntries({ store, image, repoTags: names })
        : names.length
          ? (await Promise.all(names.map((name) => ociLayoutEntries({ store, image, name })))).flat()
          : await ociLayoutEntries({ store, image });
    for (const e of entries) {
      if (e.kind !== "bytes" || !["manifest.json", "repositories", "index.json"].includes(e.path)) {
        files.set(e.path, e);
        continue;
      }
      const doc = JSON.parse(Buffer.from(e.data).toString("utf8")) as unknown;
      if (e.path === "manifest.json") manifestJson.push(...(doc as unknown[]));
      else if (e.path === "repositories") for (const [repo, tags] of Object.entries(doc as typeof repositories)) Object.assign((repositories[repo] ??= {}), tags);
      else for (const m of (doc as ImageIndex).manifests) if (!indexEntries.some((x) => JSON.stringify(x) === JSON.stringify(m))) indexEntries.push(m);
    }
  }
  files.set("index.json", { path: "index.json", kind: "bytes", data: JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: indexEntries }) });
  if (format === "docker") {
    files.set("manifest.json", { path: "manifest.json", kind: "bytes", data: JSON.stringify(manifestJson) });
    files.set("repositories", { path: "repositories", kind: "bytes", data: JSON.stringify(repositories) });
  }
  await writeTarFile([...files.values()], values.output);
  void io;
  return 0;
}

export async function loadCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" } } });
  const input = values.input ?? process.stdin;
  if (!values.input && process.stdin.isTTY) {
    throw new KilnError("USAGE", "kiln load reads an archive from -i FILE or from stdin, and stdin is a terminal", { hint: "kiln load -i app.tar" });
  }
  const r = await loadArchive({ store, input });
  for (const img of r.images) {
    if (img.names.length === 0) io.out(`Loaded image ID: ${img.manifest.digest}\n`);
    for (const n of img.names) if (!values.quiet) io.out(`Loaded image: ${familiarReference(parseReference(n))}\n`);
  }
  if (r.images.some((i) => i.names.length === 0)) {
    io.err("warning: the archive names no tag for some images; kiln keeps only named images, so tag them now (kiln tag ID NAME) or they go at the next prune\n");
  }
  return 0;
}

// ---------------------------------------------------------------- `kiln image …`

const IMAGE_SUBCOMMANDS: Record<string, (store: Store, argv: string[], io: Io) => Promise<number>> = {
  ls: imagesCommand,
  list: imagesCommand,
  inspect: inspectCommand,
  history: historyCommand,
  tag: tagCommand,
  rm: rmiCommand,
  prune: imagePruneCommand,
  save: saveCommand,
  load: loadCommand,
};

export async function imageCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const fn = sub ? IMAGE_SUBCOMMANDS[sub] : undefined;
  if (!fn) throw new KilnError("USAGE", `unknown image command "${sub ?? ""}"`, { hint: `kiln image ${Object.keys(IMAGE_SUBCOMMANDS).join("|")}` });
  return fn(store, rest, io);
}
