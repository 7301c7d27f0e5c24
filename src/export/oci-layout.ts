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
import { closureOf } from "../store/image-index.js";
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

/**
 * oci-layout and index.json naming one top descriptor: ref.name is the tag
 * (as buildx writes it) and io.containerd.image.name the full name.
 */
function layoutHead(top: Descriptor, naming: { readonly name?: string; readonly refName?: string }): TreeEntry[] {
  const annotations: Record<string, string> = {};
  if (naming.name) {
    const full = normalizeTagName(naming.name);
    annotations[Annotation.containerdImageName] = full;
    annotations[Annotation.refName] = full.slice(full.lastIndexOf(":") + 1);
  }
  if (naming.refName) annotations[Annotation.refName] = naming.refName;
  const entry: Descriptor = {
    mediaType: top.mediaType,
    digest: top.digest,
    size: top.size,
    ...(top.platform && !isIndexMediaType(top.mediaType) ? { platform: top.platform } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
  return [
    { path: "oci-layout", kind: "bytes", data: canonicalJson({ imageLayoutVersion: "1.0.0" }) },
    { path: "index.json", kind: "bytes", data: canonicalJson(imageIndex([entry])) },
  ];
}

async function writeLayout(entries: readonly TreeEntry[], opts: { readonly dest: string; readonly tar: boolean; readonly mtime?: number }): Promise<void> {
  if (opts.tar) await writeTarFile(entries, opts.dest, opts.mtime !== undefined ? { mtime: opts.mtime } : {});
  else await writeDirectory(entries, opts.dest);
}

export async function ociLayoutEntries(opts: Omit<OciLayoutOptions, "dest" | "tar" | "mtime">): Promise<TreeEntry[]> {
  return [...layoutHead(opts.image.manifestDescriptor, opts), ...(await imageBlobEntries(opts.store, opts.image, opts.getLayerBlob))];
}

export async function exportOciLayout(opts: OciLayoutOptions): Promise<ExportResult> {
  await writeLayout(await ociLayoutEntries(opts), opts);
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
  const out = layoutHead(index, opts);
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
  await writeLayout(await ociIndexLayoutEntries(opts), opts);
  return { dest: opts.dest, manifest: opts.index };
}
