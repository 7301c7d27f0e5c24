// The local store: an OCI image layout (oci-layout, index.json, blobs/) with
// kiln's working folders beside it. A small facade over the blob and ref
// modules; every method is async and safe to call from several processes.
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import type { Readable } from "node:stream";
import type { ImageConfig } from "../oci/config.js";
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import { type Digest } from "../oci/digest.js";
import { type ImageIndex, type ImageManifest, imageIndex, imageManifest } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media-types.js";
import { hostPlatform, normalizePlatform, type Platform, platformMatches } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import { KilnError } from "../util/errors.js";
import { type BlobInfo, BlobStore } from "./blobs.js";
import { canonicalJson } from "./canonical-json.js";
import { createFileDurable, tempPath } from "./durable-file.js";
import { remoteOrigin } from "./remote-blobs.js";
import { type ImageRef, normalizeTagName, readIndex, refsOf, updateIndex } from "./refs.js";
import { defaultStoreRoot, type StorePaths, storePaths } from "./root.js";

export interface ResolvedImage {
  /** The full reference it was found under; absent when found by digest only. */
  readonly name?: string;
  readonly manifestDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
}

export interface PutImageOptions {
  readonly configMediaType?: string;
  readonly annotations?: Record<string, string>;
}

const LAYOUT = canonicalJson({ imageLayoutVersion: "1.0.0" });

export class Store {
  readonly root: string;
  readonly paths: StorePaths;
  readonly blobs: BlobStore;

  private constructor(root: string) {
    this.root = root;
    this.paths = storePaths(root);
    this.blobs = new BlobStore(this.paths);
  }

  /** Open the store at `root` (default: defaultStoreRoot()), creating the
   * layout and its folders if missing. Never overwrites an existing index. */
  static async open(root: string = defaultStoreRoot()): Promise<Store> {
    const s = new Store(root);
    const p = s.paths;
    // Every kiln command opens the store: a few metadata calls, synchronous.
    for (const dir of [`${p.blobs}/sha256`, p.snapshots, p.cache, p.tmp, p.locks]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    keepPrivate([root, p.snapshots, p.cache, p.tmp, p.locks]);
    // Both files appear only whole (createFileDurable links a written, fsynced
    // temp file into place), so one that exists is complete and is left
    // alone: no temp file, fsync and failed link(2) on every command, as
    // before. A missing one is created exactly as before (link never clobbers
    // a concurrent creator's file).
    if (!existsSync(p.layout)) await createFileDurable(p.layout, LAYOUT, p.tmp);
    if (!existsSync(p.index)) await createFileDurable(p.index, canonicalJson(imageIndex([])), p.tmp);
    return s;
  }

  // ---- blobs ----

  blobPath(d: Digest): string {
    return this.blobs.path(d);
  }
  hasBlob(d: Digest): Promise<boolean> {
    return this.blobs.has(d);
  }
  /** The blob's size, or undefined when the store does not have it. */
  blobSize(d: Digest): Promise<number | undefined> {
    return this.blobs.size(d);
  }
  writeBlob(data: Uint8Array | string): Promise<BlobInfo> {
    return this.blobs.write(data);
  }
  ingestBlob(src: Readable, expected?: { digest: Digest; size?: number }): Promise<BlobInfo> {
    return this.blobs.ingest(src, expected);
  }
  adoptBlobFile(tmpFile: string, digest: Digest): Promise<void> {
    return this.blobs.adopt(tmpFile, digest);
  }
  readBlob(d: Digest): Promise<Buffer> {
    return this.blobs.read(d);
  }
  readJson<T>(d: Digest): Promise<T> {
    return this.blobs.readJson<T>(d);
  }
  /** A manifest, index or image config blob, checked against its schema before use. */
  readManifest(d: Digest): Promise<ImageManifest> {
    return this.blobs.readManifest(d);
  }
  readIndex(d: Digest): Promise<ImageIndex> {
    return this.blobs.readIndex(d);
  }
  readConfig(d: Digest): Promise<ImageConfig> {
    return this.blobs.readConfig(d);
  }
  openBlob(d: Digest): Readable {
    return this.blobs.open(d);
  }
  /** A fresh temp file path under tmp/ (same filesystem as blobs/, so it can
   * be adopted with adoptBlobFile). Nothing is created. */
  tempPath(hint?: string): string {
    return tempPath(this.paths.tmp, hint);
  }

  /** Write a JSON document as a blob in canonical form (sorted keys). */
  async writeJson(mediaType: string, value: unknown): Promise<Descriptor> {
    const { digest, size } = await this.blobs.write(canonicalJson(value));
    return { mediaType, digest, size };
  }

  /** Write config + manifest blobs for an image; returns the manifest
   * descriptor (with the config's platform). Layers must be in the store by
   * the time the image is tagged, not necessarily now. */
  async putImage(config: ImageConfig, layers: readonly Descriptor[], opts: PutImageOptions = {}): Promise<Descriptor> {
    const configDesc = await this.writeJson(opts.configMediaType ?? MediaType.ociConfig, config);
    const manifest = imageManifest(configDesc, layers, opts.annotations);
    const m = await this.writeJson(manifest.mediaType, manifest);
    return { ...m, platform: platformOf(config) };
  }

  // ---- refs ----

  async listImages(): Promise<ImageRef[]> {
    return refsOf(await readIndex(this.paths));
  }

  /**
   * Point `name` (normalised: "hello:1" -> "docker.io/library/hello:1") at
   * `desc`, replacing any previous target. Refuses (MISSING_BLOB) unless the
   * manifest and everything it references are durable in the store, so a
   * crash can never leave a ref to a half-written image.
   */
  async tag(name: string, desc: Descriptor): Promise<void> {
    const full = normalizeTagName(name);
    await this.#checkComplete(desc);
    const entry: Descriptor = {
      mediaType: desc.mediaType,
      digest: desc.digest,
      size: desc.size,
      ...(desc.platform ? { platform: desc.platform } : {}),
      annotations: { ...desc.annotations, [Annotation.refName]: full },
    };
    // Re-tagging a name with the descriptor it already has (every no-op
    // rebuild with -t) changes nothing: index.json is replaced only whole
    // (temp + fsync + rename), so a read without the lock sees a complete
    // index, and if it maps the name to exactly this entry, the tag already
    // holds; this call takes effect at that read, as if it ran just before
    // any writer that follows. Otherwise: the locked read-modify-write, as before.
    const want = canonicalJson(entry);
    const named = refsOf(await readIndex(this.paths)).filter((r) => r.name === full);
    if (named.length === 1 && canonicalJson(named[0]!.descriptor) === want) return;
    await updateIndex(this.paths, (ms) => [...ms.filter((d) => d.annotations?.[Annotation.refName] !== full), entry]);
  }

  /** Remove a name; true if it existed. Blobs stay until gc. */
  async untag(name: string): Promise<boolean> {
    const full = normalizeTagName(name);
    let found = false;
    await updateIndex(this.paths, (ms) =>
      ms.filter((d) => {
        const hit = d.annotations?.[Annotation.refName] === full;
        found ||= hit;
        return !hit;
      }),
    );
    return found;
  }

  /**
   * Find an image by name ("hello", "hello:1", "docker.io/library/hello:1",
   * "hello@sha256:…"), or by digest or hex prefix (≥ 4 characters) of a
   * tagged image's manifest or config (the image ID docker users copy). A
   * tagged index resolves to the manifest for `platform` (default: host).
   * Returns undefined when nothing matches; AMBIGUOUS_REFERENCE when a
   * prefix matches several images.
   */
  async resolveImage(nameOrDigest: string, platform: Platform = hostPlatform()): Promise<ResolvedImage | undefined> {
    const q = nameOrDigest.trim();
    const refs = await this.listImages();
    let ref;
    try {
      ref = parseReference(q);
    } catch {
      ref = undefined;
    }
    if (ref) {
      if (ref.digest) {
        if (!(await this.blobs.has(ref.digest))) return undefined;
        const d = await this.#descriptorOf(ref.digest);
        // An index pulled for one platform is kept whole, its other platforms
        // not: asked for one of those, the store does not have the image.
        if (isIndexMediaType(d.mediaType)) {
          const pick = (await this.blobs.readIndex(d.digest)).manifests.find((m) => m.platform && isManifestMediaType(m.mediaType) && platformMatches(platform, m.platform));
          if (pick && !(await this.#isComplete(pick))) return undefined;
        }
        return this.#resolveDescriptor(d, platform, undefined);
      }
      const full = normalizeTagName(q);
      const hit = refs.find((r) => r.name === full || safeNormalize(r.name) === full);
      if (hit) return this.#resolveDescriptor(hit.descriptor, platform, hit.name);
    }
    const m = /^(?:sha256:)?([a-f0-9]{4,64})$/.exec(q);
    if (!m) return undefined;
    const prefix = m[1]!;
    const found: ResolvedImage[] = [];
    for (const r of refs) {
      const img = await this.#resolveDescriptor(r.descriptor, platform, r.name).catch(() => undefined);
      if (!img) continue;
      const ids = [r.descriptor.digest, img.manifestDescriptor.digest, img.manifest.config.digest];
      if (ids.some((id) => id.slice(7).startsWith(prefix)) && !found.some((f) => f.manifestDescriptor.digest === img.manifestDescriptor.digest)) {
        found.push(img);
      }
    }
    if (found.length > 1) {
      throw new KilnError("AMBIGUOUS_REFERENCE", `"${q}" matches ${found.length} images`, { hint: "give more digits of the digest, or a name" });
    }
    if (found[0]) return found[0];
    // A full digest of an untagged manifest still in the store.
    if (prefix.length === 64 && (await this.blobs.has(`sha256:${prefix}` as Digest))) {
      return this.#resolveDescriptor(await this.#descriptorOf(`sha256:${prefix}` as Digest), platform, undefined);
    }
    return undefined;
  }

  async #descriptorOf(digest: Digest): Promise<Descriptor> {
    const buf = await this.blobs.read(digest);
    let mediaType: string | undefined;
    try {
      const j = JSON.parse(buf.toString("utf8")) as { mediaType?: unknown; manifests?: unknown } | null;
      mediaType = typeof j?.mediaType === "string" ? j.mediaType : j?.manifests ? MediaType.ociIndex : MediaType.ociManifest;
    } catch {
      mediaType = undefined;
    }
    if (!mediaType || !(isIndexMediaType(mediaType) || isManifestMediaType(mediaType))) {
      throw new KilnError("NOT_AN_IMAGE", `blob ${digest} is not an image manifest or index`);
    }
    return { mediaType, digest, size: buf.length };
  }

  async #resolveDescriptor(desc: Descriptor, platform: Platform, name: string | undefined): Promise<ResolvedImage> {
    let d = desc;
    if (isIndexMediaType(d.mediaType)) {
      const idx = await this.blobs.readIndex(d.digest);
      const pick = idx.manifests.find((m) => m.platform && isManifestMediaType(m.mediaType) && platformMatches(platform, m.platform));
      if (!pick) {
        const have = idx.manifests.flatMap((m) => (m.platform && m.platform.os !== "unknown" ? [`${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ""}`] : []));
        throw new KilnError("PLATFORM_NOT_FOUND", `${name ?? d.digest} has no image for ${platform.os}/${platform.architecture}`, {
          hint: `it has: ${have.join(", ") || "none"}`,
        });
      }
      d = pick;
    }
    const manifest = await this.blobs.readManifest(d.digest);
    const config = await this.blobs.readConfig(manifest.config.digest);
    return { ...(name ? { name } : {}), manifestDescriptor: d, manifest, config };
  }

  async #isComplete(desc: Descriptor): Promise<boolean> {
    return this.#checkComplete(desc).then(
      () => true,
      (e: unknown) => {
        if ((e as { code?: string }).code === "MISSING_BLOB") return false;
        throw e;
      },
    );
  }

  async #checkComplete(desc: Descriptor): Promise<void> {
    const missing: Digest[] = [];
    // A layer still in a registry (remote-blobs.ts) is not missing: it is fetched when its bytes are needed.
    const need = async (d: Descriptor, remoteOk = false): Promise<void> => {
      if ((await this.blobs.size(d.digest)) === undefined && !(remoteOk && remoteOrigin(this.paths, d.digest))) missing.push(d.digest);
    };
    await need(desc);
    if (!missing.length && isIndexMediaType(desc.mediaType)) {
      const idx = await this.blobs.readIndex(desc.digest);
      for (const m of idx.manifests) await this.#checkComplete(m);
    } else if (!missing.length && isManifestMediaType(desc.mediaType)) {
      const m = await this.blobs.readManifest(desc.digest);
      await Promise.all([need(m.config), ...m.layers.map((l) => need(l, true))]);
    }
    if (missing.length) {
      throw new KilnError("MISSING_BLOB", `cannot tag: ${missing.length} blob(s) of ${desc.digest} are not in the store (${missing[0]}…)`, {
        hint: "write every layer, the config and the manifest before tagging",
      });
    }
  }
}

function platformOf(c: ImageConfig): Platform {
  return normalizePlatform({ os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) });
}

function safeNormalize(name: string): string | undefined {
  try {
    return normalizeTagName(name);
  } catch {
    return undefined;
  }
}

/**
 * The store and its working folders are for their owner only (Docker keeps
 * /var/lib/docker 0710): while a build runs, tmp/ holds the step's mounted
 * rootfs, and no other user may reach an image's files through it. A store
 * made by an older kiln (0755) is closed up when next opened. A folder kiln
 * may not chmod (another owner's, a read-only store) is left as it is:
 * reading images from it still works.
 */
function keepPrivate(dirs: readonly string[]): void {
  for (const dir of dirs) {
    try {
      if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
    } catch {
      // not ours to change
    }
  }
}
