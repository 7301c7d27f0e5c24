// What each layer of an image costs: bytes it adds, and bytes wasted — files
// a layer adds that a later layer overwrites or deletes, which every pull
// still downloads. Computed by streaming each layer tar from the store once
// (never buffered), replaying whiteouts the way an overlay would. When one
// RUN creates what a later RUN deletes, the report says so: doing both in one
// RUN (or a multi-stage build) makes the image smaller.
import path from "node:path";
import type { HistoryEntry } from "../oci/config.js";
import { readTar } from "../tar/tar-reader.js";
import { decompressedStream } from "../snapshot/extract.js";
import type { ResolvedImage, Store } from "../store/store.js";

export interface LayerStats {
  readonly index: number;
  readonly diffId: string;
  /** The history entry that made the layer (empty_layer entries skipped). */
  readonly createdBy: string;
  /** Bytes of file content the layer adds (uncompressed, like docker history). */
  readonly size: number;
  /** Bytes of this layer's files that later layers overwrite or delete. */
  readonly wasted: number;
  readonly files: number;
}

export interface WasteHint {
  readonly addedBy: number;
  readonly removedBy: number;
  readonly bytes: number;
  /** A few of the paths concerned, largest first. */
  readonly paths: readonly string[];
  readonly message: string;
}

export interface LayerReport {
  readonly layers: readonly LayerStats[];
  readonly totalSize: number;
  readonly totalWasted: number;
  readonly hints: readonly WasteHint[];
}

interface Live {
  readonly layer: number;
  readonly size: number;
  readonly dir: boolean;
}

/** Only pairs wasting at least this much get a hint. */
const HINT_MIN_BYTES = 1 << 20;

/** History entries that made layers, in layer order. */
export function layerHistory(history: readonly HistoryEntry[] | undefined, layerCount: number): HistoryEntry[] {
  const made = (history ?? []).filter((h) => !h.empty_layer);
  return Array.from({ length: layerCount }, (_, i) => made[i] ?? {});
}

export async function layerReport(store: Store, image: Pick<ResolvedImage, "manifest" | "config">): Promise<LayerReport> {
  const hist = layerHistory(image.config.history, image.manifest.layers.length);
  const live = new Map<string, Live>();
  const sizes: number[] = [];
  const files: number[] = [];
  const wasted: number[] = image.manifest.layers.map(() => 0);
  const pairs = new Map<string, { bytes: number; paths: { p: string; size: number }[] }>();

  const drop = (p: string, by: number): void => {
    const hit = live.get(p);
    if (!hit || hit.layer === by) return;
    live.delete(p);
    wasted[hit.layer]! += hit.size;
    if (hit.size === 0) return;
    const key = `${hit.layer}:${by}`;
    const pair = pairs.get(key) ?? { bytes: 0, paths: [] };
    pair.bytes += hit.size;
    pair.paths.push({ p, size: hit.size });
    pairs.set(key, pair);
  };
  const dropTree = (dir: string, by: number, keepDir: boolean): void => {
    const prefix = dir === "" ? "" : `${dir}/`;
    for (const p of [...live.keys()]) if (p.startsWith(prefix) || (!keepDir && p === dir)) drop(p, by);
  };

  for (const [i, layer] of image.manifest.layers.entries()) {
    let size = 0;
    let count = 0;
    const tar = await decompressedStream(store.openBlob(layer.digest));
    for await (const { header, body } of readTar(tar)) {
      for await (const _ of body); // drain: only the headers matter
      const name = path.posix.normalize(header.name.replace(/^\.?\/+/, "")).replace(/\/$/, "");
      if (name === "." || name === "") continue;
      const base = path.posix.basename(name);
      const dir = path.posix.dirname(name) === "." ? "" : path.posix.dirname(name);
      if (base === ".wh..wh..opq") {
        dropTree(dir, i, true);
        continue;
      }
      if (base.startsWith(".wh.")) {
        const target = dir ? `${dir}/${base.slice(4)}` : base.slice(4);
        drop(target, i);
        dropTree(target, i, false);
        continue;
      }
      count++;
      const isDir = header.type === "directory";
      if (!isDir) {
        // A directory replaced by a file takes its whole tree with it.
        if (live.get(name)?.dir) dropTree(name, i, false);
        drop(name, i); // overwritten
      }
      const bytes = header.type === "file" ? header.size : 0;
      size += bytes;
      if (!isDir || !live.has(name)) live.set(name, { layer: i, size: bytes, dir: isDir });
    }
    sizes.push(size);
    files.push(count);
  }

  const layers = image.manifest.layers.map((_, i) => ({
    index: i,
    diffId: image.config.rootfs.diff_ids[i] ?? "",
    createdBy: hist[i]!.created_by ?? "",
    size: sizes[i]!,
    wasted: wasted[i]!,
    files: files[i]!,
  }));
  const hints: WasteHint[] = [];
  for (const [key, pair] of pairs) {
    if (pair.bytes < HINT_MIN_BYTES) continue;
    const [a, b] = key.split(":").map(Number) as [number, number];
    const top = pair.paths.sort((x, y) => y.size - x.size).slice(0, 3).map((x) => `/${x.p}`);
    const isRun = (s: string) => /(^|\s)(RUN|\/bin\/sh -c)\b/.test(s) && !/#\(nop\)/.test(s);
    const both = isRun(layers[a]!.createdBy) && isRun(layers[b]!.createdBy);
    const what = `layer ${a + 1} (${short(layers[a]!.createdBy)}) adds ${top.join(", ")}${pair.paths.length > 3 ? ", …" : ""} that layer ${b + 1} (${short(layers[b]!.createdBy)}) deletes or overwrites`;
    const fix = both
      ? "download, use and delete in the same RUN (… && rm -rf …), or build it in another stage and COPY --from only the result"
      : "remove it in the step that creates it, or use a multi-stage build";
    hints.push({ addedBy: a, removedBy: b, bytes: pair.bytes, paths: top, message: `${what}: ${fix}` });
  }
  hints.sort((x, y) => y.bytes - x.bytes);
  return {
    layers,
    totalSize: sizes.reduce((n, s) => n + s, 0),
    totalWasted: wasted.reduce((n, s) => n + s, 0),
    hints,
  };
}

function short(createdBy: string): string {
  // "RUN /bin/sh -c x # buildkit" reads as "RUN x".
  const s = createdBy
    .replace(/^(RUN )?\/bin\/sh -c (#\(nop\) )?/, "$1")
    .replace(/ # buildkit$/, "")
    .trim();
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** The few lines printed after a build: total, waste, hints. */
export function formatLayerReport(r: LayerReport, fmt: (n: number) => string): string {
  let out = `image: ${r.layers.length} layers, ${fmt(r.totalSize)}`;
  if (r.totalWasted > 0) out += `, ${fmt(r.totalWasted)} wasted (overwritten or deleted by later layers)`;
  out += "\n";
  for (const h of r.hints) out += `hint: ${fmt(h.bytes)} wasted: ${h.message}\n`;
  return out;
}
