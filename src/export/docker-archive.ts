// Export an image as a `docker load` tar in the docker 25+ shape: the
// classic manifest.json + repositories, and the same blobs as an OCI layout
// (oci-layout, index.json), so both old and new readers load it. Layers stay
// as their compressed blobs; docker load and skopeo detect compression.
import type { Writable } from "node:stream";
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import { imageIndex } from "../oci/manifest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { canonicalJson } from "../store/canonical-json.js";
import { normalizeTagName } from "../store/refs.js";
import type { Store } from "../store/store.js";
import { type TreeEntry, writeTar, writeTarFile } from "./file-tree.js";
import { blobEntryPath, imageBlobEntries } from "./image-blobs.js";
import type { ExportImage, ExportResult, GetLayerBlob } from "./types.js";

export interface DockerArchiveOptions {
  readonly store: Store;
  readonly image: ExportImage;
  /** A file path, or a stream (e.g. stdout for `kiln build -o type=docker,dest=-`). */
  readonly dest: string | Writable;
  /** Names to load the image as ("myapp:1"); shown the way docker shows them. */
  readonly repoTags: readonly string[];
  readonly getLayerBlob?: GetLayerBlob;
  /** Tar entry timestamps, seconds since the epoch (default 0). */
  readonly mtime?: number;
}

export async function dockerArchiveEntries(opts: Omit<DockerArchiveOptions, "dest" | "mtime">): Promise<TreeEntry[]> {
  const { image } = opts;
  const fulls = [...new Set(opts.repoTags.map(normalizeTagName))];
  const refs = fulls.map((f) => parseReference(f));
  const manifestJson = [
    {
      Config: blobEntryPath(image.manifest.config),
      RepoTags: refs.map(familiarReference),
      Layers: image.manifest.layers.map(blobEntryPath),
    },
  ];
  // repositories: { familiar repo: { tag: top layer id } } — only old docker
  // versions read it; they want the hex of the topmost layer.
  const top = image.manifest.layers.at(-1);
  const repositories: Record<string, Record<string, string>> = {};
  if (top) {
    for (const r of refs) {
      const repo = familiarReference({ registry: r.registry, repository: r.repository });
      (repositories[repo] ??= {})[r.tag ?? "latest"] = top.digest.slice(7);
    }
  }
  const md = image.manifestDescriptor;
  const base: Descriptor = { mediaType: md.mediaType, digest: md.digest, size: md.size };
  const indexEntries: Descriptor[] = fulls.length
    ? fulls.map((f, i) => ({ ...base, annotations: { [Annotation.containerdImageName]: f, [Annotation.refName]: refs[i]!.tag ?? "latest" } }))
    : [base];
  return [
    { path: "manifest.json", kind: "bytes", data: JSON.stringify(manifestJson) },
    { path: "repositories", kind: "bytes", data: canonicalJson(repositories) },
    { path: "oci-layout", kind: "bytes", data: canonicalJson({ imageLayoutVersion: "1.0.0" }) },
    { path: "index.json", kind: "bytes", data: canonicalJson(imageIndex(indexEntries)) },
    ...(await imageBlobEntries(opts.store, image, opts.getLayerBlob)),
  ];
}

export async function exportDockerArchive(opts: DockerArchiveOptions): Promise<ExportResult> {
  const entries = await dockerArchiveEntries(opts);
  const tarOpts = opts.mtime !== undefined ? { mtime: opts.mtime } : {};
  if (typeof opts.dest === "string") await writeTarFile(entries, opts.dest, tarOpts);
  else await writeTar(entries, opts.dest, tarOpts);
  return { dest: typeof opts.dest === "string" ? opts.dest : "-", manifest: opts.image.manifestDescriptor };
}
