// `kiln load -i x.tar`: images from a `docker save` tar (classic
// manifest.json with <id>/layer.tar, or docker 25+ with blobs/ beside it) or
// from an OCI layout tar (skopeo/buildx oci-archive) into the store. The tar
// is read once, streaming: every file goes into the blob store as it passes
// (a blobs/sha256/<hex> entry must hash to its name), and the small JSON
// documents are kept to assemble the images at the end. Each layer's
// uncompressed digest is checked against the config's diff_ids before any
// name points at the image.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { addAbortSignal, PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { readTar } from "../tar/tar-reader.js";
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from "../oci/limits.js";
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { type ImageIndex, imageManifest } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media-types.js";
import { normalizePlatform } from "../oci/platform.js";
import { parseReference, formatReference } from "../oci/reference.js";
import { parseJsonDocument, validateDockerArchiveManifest, validateIndex } from "../oci/validate.js";
import { decompressedStream } from "../snapshot/extract.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { readCapped, requireDocumentSize } from "../util/read-capped.js";

export interface LoadOptions {
  readonly store: Store;
  /** A file path, or a stream (stdin). */
  readonly input: string | Readable;
  /** Abort: reading stops, nothing more is named. */
  readonly signal?: AbortSignal;
}

export interface LoadedImage {
  /** Full names it was tagged under; empty when the archive named none. */
  readonly names: readonly string[];
  readonly manifest: Descriptor;
}

export interface LoadResult {
  readonly format: "docker" | "oci";
  readonly images: readonly LoadedImage[];
}

/** Files kept in memory for assembly; everything else only goes to the blob store. */
const ARCHIVE_MANIFEST = "manifest.json in the archive";
const ARCHIVE_INDEX = "index.json in the archive";

const METADATA = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);

export async function loadArchive(opts: LoadOptions): Promise<LoadResult> {
  const { store } = opts;
  const src = typeof opts.input === "string" ? await openFile(opts.input) : opts.input;
  const signal = opts.signal;
  if (signal) addAbortSignal(signal, src);
  const meta = new Map<string, Buffer>();
  const blobs = new Map<string, { digest: Digest; size: number }>();
  const links = new Map<string, string>();
  for await (const { header, body } of readTar(await decompressedStream(src))) {
    const name = path.posix.normalize(header.name.replace(/^\.?\/+/, ""));
    if (header.type === "symlink" || header.type === "link") {
      // Classic docker save links repeated layers to their first copy.
      const link = header.linkname ?? "";
      const target = header.type === "symlink" ? path.posix.join(path.posix.dirname(name), link) : path.posix.normalize(link.replace(/^\.?\/+/, ""));
      links.set(name, target);
      continue;
    }
    if (header.type !== "file") continue;
    if (METADATA.has(name)) {
      meta.set(name, await readCapped(body, { what: `${name} in the archive`, limit: MAX_MANIFEST_BYTES, announced: header.size }));
      continue;
    }
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    const expected = m ? { digest: `sha256:${m[1]}` as Digest, size: header.size } : undefined;
    blobs.set(name, await store.ingestBlob(Readable.from(body), expected));
  }
  const blobOf = (p: string): { digest: Digest; size: number } => {
    let cur = path.posix.normalize(p);
    for (let hops = 0; !blobs.has(cur) && links.has(cur) && hops < 16; hops++) cur = links.get(cur)!;
    const b = blobs.get(cur);
    if (!b) throw new KilnError("BAD_ARCHIVE", `the archive's manifest names ${p}, which is not in the tar`);
    return b;
  };

  const images: LoadedImage[] = [];
  const classic = meta.get("manifest.json");
  const index = meta.get("index.json");
  if (!classic && !index) {
    throw new KilnError("BAD_ARCHIVE", "not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)", {
      hint: "make it with kiln save, docker save, or skopeo copy … oci-archive:FILE",
    });
  }
  if (classic) {
    const entries = validateDockerArchiveManifest(parseJsonDocument(classic, ARCHIVE_MANIFEST), ARCHIVE_MANIFEST);
    // docker 25+ also ships the OCI manifests; reuse them so the digest stays the same.
    const shipped = index ? await manifestsByConfig(store, validateIndex(parseJsonDocument(index, ARCHIVE_INDEX), ARCHIVE_INDEX)) : new Map<string, Descriptor>();
    for (const e of entries) {
      const configBlob = blobOf(e.Config);
      const config = await store.readConfig(configBlob.digest);
      let desc = shipped.get(configBlob.digest);
      if (!desc) {
        const layers: Descriptor[] = [];
        for (const l of e.Layers) {
          const b = blobOf(l);
          layers.push({ mediaType: await layerMediaType(store, b.digest), digest: b.digest, size: b.size });
        }
        const m = imageManifest({ mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size }, layers);
        desc = { ...(await store.writeJson(m.mediaType, m)), platform: normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }) };
      }
      await verifyImage(store, desc);
      const names = (e.RepoTags ?? []).map((t) => formatReference(parseReference(t)));
      signal?.throwIfAborted();
      for (const n of names) await store.tag(n, desc);
      images.push({ names, manifest: desc });
    }
    return { format: "docker", images };
  }
  const idx = validateIndex(parseJsonDocument(index!, ARCHIVE_INDEX), ARCHIVE_INDEX);
  for (const d of idx.manifests) {
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    await verifyImage(store, d);
    const name = nameOf(d);
    const entry: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) };
    signal?.throwIfAborted();
    if (name) await store.tag(name, entry);
    images.push({ names: name ? [name] : [], manifest: entry });
  }
  return { format: "oci", images };
}

/** The name an OCI index entry carries: containerd's full name, else a ref.name that is a whole reference (not just a tag). */
function nameOf(d: Descriptor): string | undefined {
  const full = d.annotations?.[Annotation.containerdImageName];
  const ref = d.annotations?.[Annotation.refName];
  for (const candidate of [full, ref]) {
    if (!candidate || !/[/:]/.test(candidate)) continue;
    try {
      const r = parseReference(candidate);
      if (!r.digest) return formatReference(r);
    } catch {
      // a bare tag such as "latest" or "1.0" names nothing on its own
    }
  }
  return undefined;
}

async function manifestsByConfig(store: Store, idx: ImageIndex): Promise<Map<string, Descriptor>> {
  const out = new Map<string, Descriptor>();
  for (const d of idx.manifests) {
    if (!isManifestMediaType(d.mediaType) || !(await store.hasBlob(d.digest))) continue;
    const m = await store.readManifest(d.digest);
    out.set(m.config.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) });
  }
  return out;
}

/** Every blob present, and each layer unpacks to the diff_id its config names. */
async function verifyImage(store: Store, d: Descriptor): Promise<void> {
  if (!(await store.hasBlob(d.digest))) throw new KilnError("BAD_ARCHIVE", `the archive's index names ${d.digest}, which is not in the tar`);
  requireDocumentSize(d, MAX_MANIFEST_BYTES, `manifest ${d.digest} in the archive`);
  if (isIndexMediaType(d.mediaType)) {
    for (const m of (await store.readIndex(d.digest)).manifests) if (isManifestMediaType(m.mediaType)) await verifyImage(store, m);
    return;
  }
  const m = await store.readManifest(d.digest);
  if (!(await store.hasBlob(m.config.digest))) throw new KilnError("BAD_ARCHIVE", `config ${m.config.digest} of ${d.digest} is not in the tar`);
  if (m.artifactType || m.config.mediaType === "application/vnd.oci.empty.v1+json") return; // attestations and other artifacts have no rootfs
  requireDocumentSize(m.config, MAX_CONFIG_BYTES, `config ${m.config.digest} in the archive`);
  const config = await store.readConfig(m.config.digest);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== m.layers.length) {
    throw new KilnError("BAD_ARCHIVE", `image ${d.digest} has ${m.layers.length} layers but its config lists ${diffIds.length} diff_ids`);
  }
  for (const [i, l] of m.layers.entries()) {
    if (!(await store.hasBlob(l.digest))) throw new KilnError("BAD_ARCHIVE", `layer ${l.digest} of ${d.digest} is not in the tar`);
    const got = await uncompressedDigest(store, l.digest);
    if (got !== diffIds[i]) {
      throw new KilnError("DIGEST_MISMATCH", `layer ${l.digest} unpacks to ${got}, but the image config says ${diffIds[i]}`, {
        hint: "the archive is corrupt or was edited; save it again",
      });
    }
  }
}

async function uncompressedDigest(store: Store, d: Digest): Promise<string> {
  const hash = createHash("sha256");
  const sink = new PassThrough();
  sink.on("data", (c: Buffer) => hash.update(c));
  await pipeline(await decompressedStream(store.openBlob(d)), sink);
  return `sha256:${hash.digest("hex")}`;
}

async function layerMediaType(store: Store, d: Digest): Promise<string> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(store.blobPath(d), { start: 0, end: 3 });
    const chunks: Buffer[] = [];
    s.on("data", (c) => chunks.push(c as Buffer));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.ociLayerGzip;
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}

async function openFile(file: string): Promise<Readable> {
  const s = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    s.once("open", () => resolve());
    s.once("error", (e) => reject(new KilnError("LOAD_FAILED", `cannot read ${file}: ${e.message}`)));
  });
  return s;
}
