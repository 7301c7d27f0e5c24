// Export an image as an OCI image layout, as a directory or a tar
// (`oci-archive:`), the way `buildx --output type=oci` does: index.json has
// one manifest descriptor annotated with org.opencontainers.image.ref.name =
// the TAG ("1", so `skopeo inspect oci:dir:1` works) and
// io.containerd.image.name = the full name, when a name is given.
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import { imageIndex } from "../oci/manifest.js";
import { canonicalJson } from "../store/canonical-json.js";
import { normalizeTagName } from "../store/refs.js";
import type { Store } from "../store/store.js";
import { type TreeEntry, writeDirectory, writeTarFile } from "./file-tree.js";
import { blobEntryPath, imageBlobEntries, storeLayerBlob } from "./image-blobs.js";
import { closureOf } from "./image-index.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { stat } from "node:fs/promises";
import { KilnError } from "../util/errors.js";
import type { ExportImage, ExportResult, GetLayerBlob } from "./types.js";

export interface OciLayoutOptions {
  readonly store: Store;
  readonly image: ExportImage;
  /** A directory (replaced if it exists) or, with `tar`, a file. */
  readonly dest: string;
  readonly tar: boolean;
  /** Image name, e.g. "myapp:1"; sets io.containerd.image.name and, unless
   * refName is given, ref.name = its tag. */
  readonly name?: string;
  /** Explicit org.opencontainers.image.ref.name (overrides the tag). */
  readonly refName?: string;
  readonly getLayerBlob?: GetLayerBlob;
  /** Tar entry timestamps, seconds since the epoch (default 0). */
  readonly mtime?: number;
}

export async function ociLayoutEntries(opts: Omit<OciLayoutOptions, "dest" | "tar" | "mtime">): Promise<TreeEntry[]> {
  const { store, image } = opts;
  const annotations: Record<string, string> = {};
  if (opts.name) {
    const full = normalizeTagName(opts.name);
    annotations[Annotation.containerdImageName] = full;
    annotations[Annotation.refName] = full.slice(full.lastIndexOf(":") + 1);
  }
  if (opts.refName) annotations[Annotation.refName] = opts.refName;
  const md = image.manifestDescriptor;
  const entry: Descriptor = {
    mediaType: md.mediaType,
    digest: md.digest,
    size: md.size,
    ...(md.platform ? { platform: md.platform } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
  return [
    { path: "oci-layout", kind: "bytes", data: canonicalJson({ imageLayoutVersion: "1.0.0" }) },
    { path: "index.json", kind: "bytes", data: canonicalJson(imageIndex([entry])) },
    ...(await imageBlobEntries(store, image, opts.getLayerBlob)),
  ];
}

export async function exportOciLayout(opts: OciLayoutOptions): Promise<ExportResult> {
  const entries = await ociLayoutEntries(opts);
  if (opts.tar) await writeTarFile(entries, opts.dest, opts.mtime !== undefined ? { mtime: opts.mtime } : {});
  else await writeDirectory(entries, opts.dest);
  return { dest: opts.dest, manifest: opts.image.manifestDescriptor };
}

export interface OciIndexLayoutOptions {
  readonly store: Store;
  /** An image index (or a single manifest) in the store. */
  readonly index: Descriptor;
  readonly dest: string;
  readonly tar: boolean;
  readonly name?: string;
  readonly refName?: string;
  /** Tar entry timestamps, seconds since the epoch (default 0). */
  readonly mtime?: number;
}

/**
 * An OCI layout whose index.json names one image index (as `buildx
 * --platform a,b --output type=oci` writes it): the index blob, and every
 * child manifest with its config and layers, all from the store.
 */
export async function ociIndexLayoutEntries(opts: Omit<OciIndexLayoutOptions, "dest" | "tar" | "mtime">): Promise<TreeEntry[]> {
  const { store, index } = opts;
  const annotations: Record<string, string> = {};
  if (opts.name) {
    const full = normalizeTagName(opts.name);
    annotations[Annotation.containerdImageName] = full;
    annotations[Annotation.refName] = full.slice(full.lastIndexOf(":") + 1);
  }
  if (opts.refName) annotations[Annotation.refName] = opts.refName;
  const entry: Descriptor = {
    mediaType: index.mediaType,
    digest: index.digest,
    size: index.size,
    ...(index.platform && !isIndexMediaType(index.mediaType) ? { platform: index.platform } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
  const out: TreeEntry[] = [
    { path: "oci-layout", kind: "bytes", data: canonicalJson({ imageLayoutVersion: "1.0.0" }) },
    { path: "index.json", kind: "bytes", data: canonicalJson(imageIndex([entry])) },
  ];
  const layerFile = storeLayerBlob(store);
  for (const d of await closureOf(store, index)) {
    if (isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType) || d.mediaType.endsWith("+json") || d.mediaType.endsWith(".json")) {
      out.push({ path: blobEntryPath(d), kind: "bytes", data: await store.readBlob(d.digest) });
      continue;
    }
    const source = await layerFile(d);
    const { size } = await stat(source);
    if (size !== d.size) throw new KilnError("BLOB_SIZE_MISMATCH", `blob ${d.digest}: ${source} has ${size} bytes, the manifest says ${d.size}`);
    out.push({ path: blobEntryPath(d), kind: "file", source });
  }
  return out;
}

export async function exportOciIndexLayout(opts: OciIndexLayoutOptions): Promise<ExportResult> {
  const entries = await ociIndexLayoutEntries(opts);
  if (opts.tar) await writeTarFile(entries, opts.dest, opts.mtime !== undefined ? { mtime: opts.mtime } : {});
  else await writeDirectory(entries, opts.dest);
  return { dest: opts.dest, manifest: opts.index };
}
