// `kiln tag`, `kiln rmi`, `kiln image prune`, `kiln du`.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { parseFlags } from "./flags.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { snapshotSizes } from "../cache/prune.js";
import { StepRecords } from "../cache/records.js";
import { walkBlobs } from "../images/image-blobs.js";
import { pruneImages, type PruneFilter } from "../images/prune.js";
import { refNamed, removeImages, requireImage } from "../images/remove.js";
import { chainIds, SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { formatBytes, table } from "./format.js";
import { formatItems, shortId, untilCutoff } from "./image-rows.js";

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
  const r = await removeImages(store, positionals, { force: values.force ?? false, prune: !values["no-prune"] });
  for (const o of r.outcomes) {
    if ("error" in o) io.err(`error: ${o.error.format()}\n`);
    else for (const name of o.untagged) io.out(`Untagged: ${name}\n`);
  }
  for (const d of r.deleted) io.out(`Deleted: ${d}\n`);
  return r.outcomes.some((o) => "error" in o) ? 1 : 0;
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
  const filterOf = (f: string): PruneFilter => {
    const v = f.slice(f.indexOf("=") + 1);
    if (f.startsWith("until=")) return { kind: "until", before: untilCutoff(v) };
    const le = v.indexOf("=");
    return le < 0 ? { kind: "label", key: v } : { kind: "label", key: v.slice(0, le), value: v.slice(le + 1) };
  };
  const r = await pruneImages(store, { all: values.all ?? false, filters: filters.map(filterOf) });
  let out = r.untagged.map((n) => `untagged: ${n}\n`).join("");
  if (r.deleted.length) out = `Deleted Images:\n${out}${r.deleted.map((d) => `deleted: ${d}\n`).join("")}\n`;
  io.out(`${out}Total reclaimed space: ${formatBytes(r.reclaimedBytes)}\n`);
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
