// After the platforms are built: each platform's image into the store, the
// files asked for (type=local per platform, type=tar), the attestations, one
// image (one platform) or one image index (several platforms, or
// attestations, which live in an index) tagged and exported, then pushed.
// Every output comes from the one build of each platform: nothing is built
// twice because two outputs want it.
import path from "node:path";
import { attestationEntries, wantsAttestations, writeLocalAttestations, type BuildParameters } from "../attest/attach.js";
import { exportDockerArchive } from "../export/docker-archive.js";
import { toDockerMediaTypes } from "../export/docker-media-types.js";
import { indexEntry, putIndex } from "../store/image-index.js";
import { exportOciIndexLayout, exportOciLayout } from "../export/oci-layout.js";
import { storeLayerBlob } from "../export/image-blobs.js";
import type { GetLayerBlob } from "../export/types.js";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import { formatPlatform, type Platform } from "../oci/platform.js";
import { familiarReference, formatReference, normalizeReference, parseReference } from "../oci/reference.js";
import { DEFAULT_NETWORK } from "../exec/runtime-spec.js";
import type { BuildTrace } from "../attest/build-trace.js";
import type { PlatformRun } from "./build-platform.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import { ensureLayerBlob, localLayerBlob } from "../snapshot/layer-blobs.js";
import { withPhases } from "../util/phases.js";
import { annotationsFor, buildRegistryAccess, type BuildOptions, type Output } from "./options.js";
import { exportRootfs, exportRootfsTar } from "../export/outputs.js";
import type { BuildSession } from "./session.js";

/** One platform's part of a build result. */
export interface PlatformBuild {
  readonly platform: Platform;
  /** The platform's image manifest (absent when only files were asked for). */
  readonly manifest?: Descriptor;
  readonly config: ImageConfig;
  /** The final image's layers (for an SBOM scan of its filesystem). */
  readonly layers: readonly LayerRecord[];
  readonly executed: number;
  readonly cached: number;
  readonly stages: readonly number[];
  readonly trace: BuildTrace;
}

/** A push the build made: `reference` as pushed (a digest reference when by digest). */
export interface PushedImage {
  readonly name: string;
  readonly reference: string;
  readonly digest: Digest;
  readonly byDigest: boolean;
}

/** A file output as written: local folders are per platform when there are several. */
export interface WrittenOutput {
  readonly kind: Exclude<Output["kind"], "registry">;
  readonly dest: string;
  readonly platform?: Platform;
}

export interface Delivered {
  /** What was tagged and exported: the image manifest, or the index. */
  readonly manifest?: Descriptor;
  readonly index?: Descriptor;
  readonly tags: readonly string[];
  readonly platforms: readonly PlatformBuild[];
  readonly pushed: readonly PushedImage[];
  readonly outputs: readonly WrittenOutput[];
}

/** The tags of a build: -t names, then the names of registry outputs (tagged in the store too, as buildx). */
export function buildTags(opts: BuildOptions): string[] {
  const names = [...(opts.tags ?? []), ...(opts.outputs ?? []).flatMap((o) => (o.kind === "registry" ? [o.name] : []))];
  return [...new Set(names.map(normalizeReference))];
}

export async function deliver(opts: BuildOptions, s: BuildSession, runs: readonly PlatformRun[], asIndex: boolean): Promise<Delivered> {
  const { store } = s;
  const tags = buildTags(opts);
  const outputs = opts.outputs ?? [];
  const multi = runs.length > 1;
  // Layers are compressed only when something needs blobs: a tag, an image
  // output, or no output at all (the store). `--output type=local` alone needs none.
  const needImages = tags.length > 0 || outputs.length === 0 || outputs.some((o) => o.kind === "oci" || o.kind === "docker");
  // Only what leaves the machine is compressed: a push, an OCI or docker
  // archive, or attestations (they name the manifest digest that is
  // pushed). A build into the store alone lists the layers as uncompressed
  // tars and compresses nothing.
  const compress = outputs.some((o) => o.kind === "registry" || o.kind === "oci" || o.kind === "docker") || wantsAttestations(opts.attestations);
  const written: WrittenOutput[] = [];
  const manifests: (Descriptor | undefined)[] = [];
  let top: Descriptor | undefined;
  // Blobs reused from the cache are old: hold the GC lock until a ref names them.
  await s.gcLocked(async () => {
    for (const r of runs) manifests.push(needImages ? await putPlatformImage(opts, s, r, compress) : undefined);
    for (const r of runs) written.push(...(await writeFiles(s, r, outputs, multi)));
    if (needImages && !asIndex) top = await publishImage(opts, s, manifests[0]!, runs[0]!.config);
  });
  const params = attestParameters(opts, tags);
  if (wantsAttestations(opts.attestations)) {
    for (const o of written) {
      const r = runs.find((x) => x.platform === o.platform) ?? runs[0]!;
      if (o.kind === "local") await writeLocalAttestations(store, o.dest, { platform: r.platform, layers: r.state.layers, trace: r.trace }, params, opts.attestations);
    }
  }
  let index: Descriptor | undefined;
  if (needImages && asIndex) {
    const images = runs.map((r, i) => ({ platform: r.platform, manifest: manifests[i]!, layers: r.state.layers, trace: r.trace }));
    const entries = images.map((i) => indexEntry(i.manifest, i.platform, annotationsFor(opts.annotations, "manifest-descriptor", i.platform)));
    if (wantsAttestations(opts.attestations)) {
      const a = opts.attestations;
      s.emit({ kind: "info", message: `attesting ${[a.provenance ? `provenance (mode=${a.provenance.mode})` : "", a.sbom ? "sbom" : ""].filter(Boolean).join(" and ")}` });
      entries.push(...(await attestationEntries(store, images, params, a)));
    }
    index = await s.gcLocked(() => publishIndex(opts, s, entries, manifests[0]!, runs[0]!.platform));
    top = index;
  }
  const pushed = top && outputs.some((o) => o.kind === "registry") ? await pushAll(opts, s, top) : [];
  const platforms = runs.map((r, i) => ({
    platform: r.platform,
    ...(manifests[i] ? { manifest: manifests[i] } : {}),
    config: r.config,
    layers: r.state.layers,
    executed: r.executed,
    cached: r.cached,
    stages: r.stages,
    trace: r.trace,
  }));
  return { ...(top ? { manifest: top } : {}), ...(index ? { index } : {}), tags, platforms, pushed, outputs: written };
}

async function putPlatformImage(opts: BuildOptions, s: BuildSession, r: PlatformRun, compress: boolean): Promise<Descriptor> {
  const blobOf = (l: LayerRecord) =>
    s.onDemand ? s.onDemand.manifestBlob(l, opts.compression) : compress ? ensureLayerBlob(s.store, s.snapshots, l, opts.compression ? { compression: opts.compression } : {}) : localLayerBlob(s.store, s.snapshots, l);
  const { result: layers, phases } = await withPhases(async () => {
    const out: Descriptor[] = [];
    for (const l of r.state.layers) out.push(await blobOf(l));
    return out;
  });
  if (phases.length) s.emit({ kind: "phases", label: "exporting layers", phases });
  const annotations = annotationsFor(opts.annotations, "manifest", r.state.platform);
  return s.store.putImage(r.config, layers, annotations ? { annotations } : {});
}

/** type=local (one folder per platform when several, as buildx: dest/linux_arm64/) and type=tar. */
async function writeFiles(s: BuildSession, r: PlatformRun, outputs: readonly Output[], multi: boolean): Promise<WrittenOutput[]> {
  const done: WrittenOutput[] = [];
  // A rootfs output reads every snapshot: layers left in a registry come over now.
  if (outputs.some((o) => o.kind === "local" || o.kind === "tar")) await s.onDemand?.ensureChain(r.state.layers);
  for (const o of outputs) {
    if (o.kind === "local") {
      const dest = multi ? path.join(o.dest, formatPlatform(r.platform).replaceAll("/", "_")) : o.dest;
      await exportRootfs(s.store, s.snapshots, r.state.layers, dest);
      done.push({ kind: "local", dest, platform: r.platform });
    } else if (o.kind === "tar") {
      await exportRootfsTar(s.store, s.snapshots, r.state.layers, o.dest);
      done.push({ kind: "tar", dest: o.dest, platform: r.platform });
    }
  }
  return done;
}

/** One platform, no index: the image is tagged and exported as it is. */
async function publishImage(opts: BuildOptions, s: BuildSession, manifest: Descriptor, config: ImageConfig): Promise<Descriptor> {
  const tags = buildTags(opts);
  for (const t of tags) await s.store.tag(t, manifest);
  const image = { manifestDescriptor: manifest, manifest: await s.store.readJson<ImageManifest>(manifest.digest), config };
  const name = tags[0] ? familiarReference(parseReference(tags[0])) : undefined;
  for (const o of opts.outputs ?? []) {
    if (o.kind === "oci") await exportOciLayout({ store: s.store, getLayerBlob: layerFiles(opts, s), image, dest: o.dest, tar: o.tar, ...(name ? { name } : {}) });
    else if (o.kind === "docker") await exportDockerArchive({ store: s.store, getLayerBlob: layerFiles(opts, s), image, dest: o.dest, repoTags: tags.map((t) => familiarReference(parseReference(t))) });
  }
  return manifest;
}

/** The index of the platforms' images (and attestations), tagged and exported. */
async function publishIndex(opts: BuildOptions, s: BuildSession, entries: readonly Descriptor[], first: Descriptor, firstPlatform: Platform): Promise<Descriptor> {
  const tags = buildTags(opts);
  const oci = await putIndex(s.store, [...entries], annotationsFor(opts.annotations, "index", undefined));
  const index = opts.ociMediaTypes === false ? await toDockerMediaTypes(s.store, oci) : oci;
  for (const t of tags) await s.store.tag(t, index);
  const name = tags[0] ? familiarReference(parseReference(tags[0])) : undefined;
  for (const o of opts.outputs ?? []) {
    if (o.kind === "oci") {
      const mtime = opts.sourceDateEpoch;
      await exportOciIndexLayout({ store: s.store, index, dest: o.dest, tar: o.tar, ...(name ? { name } : {}), ...(mtime !== undefined ? { mtime } : {}) });
    } else if (o.kind === "docker") {
      // One platform (build() refuses several): the docker archive of its image.
      const image = await s.store.resolveImage(first.digest, firstPlatform);
      if (!image) throw new Error("internal: built image not in the store");
      await exportDockerArchive({ store: s.store, getLayerBlob: layerFiles(opts, s), image, dest: o.dest, repoTags: tags.map((t) => familiarReference(parseReference(t))) });
    }
  }
  return index;
}

/** type=registry outputs, in the order given; by digest: no tag in the registry, the digest is what `index create` merges. */
async function pushAll(opts: BuildOptions, s: BuildSession, top: Descriptor): Promise<PushedImage[]> {
  const pushed: PushedImage[] = [];
  // Loaded on first use: a build that pushes nothing never loads the push client.
  const { pushImage } = await import("../registry/push.js");
  for (const o of opts.outputs ?? []) {
    if (o.kind !== "registry") continue;
    const byDigest = o.pushByDigest ?? false;
    const ref = byDigest ? formatReference({ ...parseReference(o.name), tag: undefined, digest: top.digest }) : o.name;
    const r = await pushImage({ store: s.store, image: o.name, ref, ...buildRegistryAccess(opts), ...(o.referrers ? { referrers: true } : {}) });
    pushed.push({ name: o.name, reference: r.reference, digest: r.digest, byDigest });
  }
  return pushed;
}

/** What provenance records of the build's invocation. */
function attestParameters(opts: BuildOptions, tags: readonly string[]): BuildParameters {
  return {
    tags,
    buildArgs: opts.buildArgs ?? {},
    ...(opts.target !== undefined ? { target: opts.target } : {}),
    secretIds: (opts.secrets ?? []).map((x) => x.id),
    network: opts.network ?? DEFAULT_NETWORK,
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
  };
}

/** Layer files for an export: a layer left in its registry (remoteLayers "on-demand") is fetched with the build's registry settings. */
function layerFiles(opts: BuildOptions, s: BuildSession): GetLayerBlob {
  return storeLayerBlob(s.store, buildRegistryAccess(opts));
}
