// Pull: resolve the reference to a manifest (choosing the platform from an
// index), fetch config and layers in parallel, verify every byte against
// its digest and size (the store refuses anything else), and name the
// image in the store only once everything is there.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { MAX_CONFIG_BYTES } from "../oci/limits.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { formatPlatform, hostPlatform, normalizePlatform, type Platform, platformMatches } from "../oci/platform.js";
import { formatReference, parseReference, type Reference } from "../oci/reference.js";
import { parseIndex, parseManifest } from "../oci/validate.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { requireDocumentSize } from "../util/read-capped.js";
import type { ClientOptions, RegistryClient } from "./client.js";
import { openPullSource } from "./pull-source.js";
import { mapLimit } from "./limit.js";
import { type FetchedManifest, Repository } from "./repository.js";
import { downloadBlob } from "./blob-download.js";
import { tagPulledPlatform } from "./tag-pulled.js";
import { throttledBytes } from "./byte-events.js";

export type PullEvent =
  /** `host`: who answered, a mirror's host or the registry's own. */
  | { readonly type: "resolved"; readonly ref: string; readonly digest: Digest; readonly host: string }
  | { readonly type: "blob"; readonly digest: Digest; readonly size: number; readonly status: "exists" | "downloaded" }
  /** Bytes of a blob received so far (a retry starts again from 0); the last one has bytes === size. */
  | { readonly type: "progress"; readonly digest: Digest; readonly size: number; readonly bytes: number };

export interface PullOptions extends ClientOptions {
  readonly store: Store;
  readonly ref: string;
  readonly platform?: Platform;
  /** Blob downloads in flight (default 4). */
  readonly concurrency?: number;
  readonly onEvent?: (e: PullEvent) => void;
  /** Reuse a client (and its tokens) across operations; closed by the caller. */
  readonly client?: RegistryClient;
  /** An index: fetch every image and attestation manifest in it, and name the index itself. */
  readonly allPlatforms?: boolean;
  /** "config": resolve the manifest and fetch its config only, and name
   * nothing (a build's lazy base: its layers are fetched when a step needs
   * them, store/remote-blobs.ts). Default "all". */
  readonly blobs?: "all" | "config";
}

export interface PullResult extends ResolvedImage {
  /** The digest the reference resolved to (an index's, for multi-platform images). */
  readonly digest: Digest;
  readonly reference: string;
}

export async function pullImage(o: PullOptions): Promise<PullResult> {
  const ref = parseRef(o.ref);
  const top = (repo: Repository) => fetchManifest(repo, (ref.digest ?? ref.tag)!, o.store);
  // A given client is that host and no other; otherwise mirrors first.
  const src = o.client
    ? { client: o.client, repo: new Repository(o.client, ref.repository, "pull"), host: o.client.host }
    : await openPullSource(ref, o, top);
  try {
    const first = "first" in src ? src.first : await top(src.repo);
    o.onEvent?.({ type: "resolved", ref: formatReference(ref), digest: first.digest, host: src.host });
    return await pullWith(src.client, src.repo, ref, first, o);
  } finally {
    if (!o.client) await src.client.close();
  }
}

async function pullWith(client: RegistryClient, repo: Repository, ref: Reference, top: FetchedManifest, o: PullOptions): Promise<PullResult> {
  const store = o.store;
  const platform = normalizePlatform(o.platform ?? hostPlatform());
  let chosen: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
  let manifestBytes = top.bytes;
  const all = o.allPlatforms === true && isIndexMediaType(top.mediaType);
  let idx: ImageIndex | undefined;
  if (isIndexMediaType(top.mediaType)) {
    idx = parseIndex(top.bytes, `image index ${formatReference(ref)}@${top.digest}`);
    if (all) {
      for (const child of idx.manifests) {
        if (!isManifestMediaType(child.mediaType)) throw new KilnError("UNSUPPORTED_MEDIA_TYPE", `${formatReference(ref)}: nested index ${child.digest} is not supported`);
        const m = await fetchManifest(repo, child.digest, o.store);
        await fetchBlobs(client, repo, parseManifest(m.bytes, `manifest ${formatReference(ref)}@${m.digest}`), o);
      }
    }
    const pick = pickPlatform(idx, platform) ?? (all ? idx.manifests.find((m) => m.platform && m.platform.os !== "unknown") : undefined);
    if (!pick) {
      const have = idx.manifests.flatMap((m) => (m.platform && m.platform.os !== "unknown" ? [formatPlatform(m.platform)] : []));
      throw new KilnError("PLATFORM_NOT_FOUND", `${formatReference(ref)} has no image for ${formatPlatform(platform)}`, {
        hint: `it has: ${have.join(", ") || "none"}; choose one with --platform`,
      });
    }
    const child = await fetchManifest(repo, pick.digest, o.store);
    chosen = { ...pick, mediaType: child.mediaType };
    manifestBytes = child.bytes;
  } else if (!isManifestMediaType(top.mediaType)) {
    throw new KilnError("UNSUPPORTED_MEDIA_TYPE", `${formatReference(ref)} is a ${top.mediaType}, not an image`, {
      hint: "kiln pulls OCI and Docker v2 images (schema 1 manifests are not supported)",
    });
  }
  const manifest = parseManifest(manifestBytes, `manifest ${formatReference(ref)}@${chosen.digest}`);
  const configOnly = o.blobs === "config" && !all;
  await fetchBlobs(client, repo, configOnly ? { ...manifest, layers: [] } : manifest, o);
  const config = await store.readConfig(manifest.config.digest);
  if (!chosen.platform) chosen = { ...chosen, platform: normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }) };
  // One platform of an index is named as an index of the platforms pulled
  // so far (tag-pulled.ts); the registry's index blob is kept too, so a
  // digest-pinned FROM finds it and pulls any platform it lacks.
  let name: string | undefined;
  if (!ref.digest && ref.tag && !configOnly) {
    name = formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
    if (all) await store.tag(name, { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length });
    else if (idx) await tagPulledPlatform(store, name, { digest: top.digest, index: idx }, { ...chosen, platform: chosen.platform! });
    else await store.tag(name, chosen);
  }
  return { ...(name ? { name } : {}), manifestDescriptor: chosen, manifest, config, digest: top.digest, reference: formatReference(ref) };
}

/** Config and layers of `manifest` into the store, in parallel, each verified; blobs the store has are skipped. */
async function fetchBlobs(client: RegistryClient, repo: Repository, manifest: ImageManifest, o: PullOptions): Promise<void> {
  // The config is read whole later: refuse an absurd one before fetching it.
  requireDocumentSize(manifest.config, MAX_CONFIG_BYTES, `the config ${manifest.config.digest} of ${repo.name} on ${client.host}`);
  await mapLimit([manifest.config, ...manifest.layers], o.concurrency ?? 4, async (d) => {
    const onBytes = o.onEvent ? throttledBytes(d.size, (bytes) => o.onEvent!({ type: "progress", digest: d.digest, size: d.size, bytes })) : undefined;
    const status = await downloadBlob(repo, o.store, d, onBytes);
    o.onEvent?.({ type: "blob", digest: d.digest, size: d.size, status });
  });
}

async function fetchManifest(repo: Repository, reference: string, store: Store): Promise<FetchedManifest> {
  const m = await repo.getManifest(reference);
  await store.writeBlob(m.bytes);
  return m;
}

/** containerd's choice: an exact (normalised) os/arch/variant match; for
 * arm, the highest variant not above the one asked for (v7 runs v6, v5). */
export function pickPlatform(idx: ImageIndex, want: Platform): Descriptor | undefined {
  const images = idx.manifests.filter((m) => m.platform && isManifestMediaType(m.mediaType ?? "application/vnd.oci.image.manifest.v1+json"));
  const exact = images.find((m) => platformMatches(want, m.platform!));
  if (exact) return exact;
  const w = normalizePlatform(want);
  if (w.architecture !== "arm" || !w.variant) return undefined;
  const wantV = Number(w.variant.slice(1));
  let best: { d: Descriptor; v: number } | undefined;
  for (const m of images) {
    const p = normalizePlatform(m.platform!);
    if (p.os !== w.os || p.architecture !== "arm") continue;
    const v = Number((p.variant ?? "v7").slice(1));
    if (v <= wantV && (!best || v > best.v)) best = { d: m, v };
  }
  return best?.d;
}

/** A local image if the store has it, otherwise pulled (build's FROM). */
export async function ensureImage(o: PullOptions & { readonly pull?: boolean }): Promise<ResolvedImage> {
  if (!o.pull) {
    const local = await o.store.resolveImage(o.ref, o.platform ?? hostPlatform()).catch((e: unknown) => {
      if ((e as { code?: string }).code === "PLATFORM_NOT_FOUND") return undefined;
      throw e;
    });
    if (local) return local;
  }
  return pullImage(o);
}

function parseRef(value: string): Reference {
  try {
    return parseReference(value);
  } catch (e) {
    throw new KilnError("INVALID_REFERENCE", (e as Error).message, { cause: e });
  }
}
