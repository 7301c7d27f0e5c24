// `docker buildx imagetools` for kiln, straight on the registry: make an
// image index from images already pushed (one per platform, by digest, from
// per-platform CI runners) and name it, moving only manifests — a child in
// another repository of the same registry has its blobs mounted (one POST
// each, no bytes) and its manifest put by digest; no layer is downloaded or
// uploaded. A manifest's platform comes from its config blob (small) when
// no index says it. And inspect: what a reference is, without pulling it.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { MAX_CONFIG_BYTES } from "../oci/limits.js";
import { imageIndex } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media-types.js";
import { normalizePlatform, type Platform } from "../oci/platform.js";
import { formatReference, parseReference, type Reference } from "../oci/reference.js";
import { parseConfig, parseIndex, parseManifest } from "../oci/validate.js";
import { canonicalJson } from "../store/canonical-json.js";
import { sha256Digest } from "../oci/digest.js";
import { KilnError } from "../util/errors.js";
import { readCapped } from "../util/read-capped.js";
import { type IndexSourceReader, mergeIndexSources } from "../store/index-merge.js";
import { mountBlob } from "./blob-upload.js";
import type { ClientOptions, RegistryClient } from "./client.js";
import { clientFor } from "./hosts.js";
import { openPullSource } from "./pull-source.js";
import { type FetchedManifest, Repository } from "./repository.js";

export type ImagetoolsEvent =
  | { readonly type: "blob"; readonly repository: string; readonly digest: Digest; readonly result: "exists" | "mounted" }
  | { readonly type: "manifest"; readonly repository: string; readonly digest: Digest; readonly result: "exists" | "copied" }
  | { readonly type: "tagged"; readonly reference: string; readonly digest: Digest };

export interface CreateRemoteIndexOptions extends ClientOptions {
  /** REPO@sha256:… or REPO:TAG on one registry: images or indexes. */
  readonly sources: readonly string[];
  /** Where to put the index (REPO:TAG, same registry); none with dryRun. */
  readonly tags: readonly string[];
  readonly dryRun?: boolean;
  readonly onEvent?: (e: ImagetoolsEvent) => void;
}

export interface RemoteIndex {
  readonly descriptor: Descriptor;
  /** The index as put (canonical JSON). */
  readonly bytes: Buffer;
  readonly entries: readonly Descriptor[];
}

export async function createRemoteIndex(o: CreateRemoteIndexOptions): Promise<RemoteIndex> {
  const sources = o.sources.map(parseRef);
  const tags = o.tags.map(parseRef);
  if (!o.dryRun && tags.length === 0) throw new KilnError("USAGE", "imagetools create needs -t REPO:TAG (or --dry-run)");
  const registry = sources[0]?.registry;
  for (const r of [...sources, ...tags]) {
    if (r.registry !== registry) {
      throw new KilnError("CROSS_REGISTRY", `${formatReference(r)} is on ${r.registry}, not ${registry}: imagetools create moves manifests within one registry`, {
        hint: "push the images to the target registry first (kiln pull, then kiln push)",
      });
    }
  }
  for (const t of tags) if (t.digest || !t.tag) throw new KilnError("USAGE", `-t ${formatReference(t)}: the index needs a tag (REPO:TAG)`);
  const client = clientFor(registry ?? "", o);
  try {
    const fetched = new Map<string, FetchedManifest>();
    const manifest = async (repo: string, ref: string): Promise<FetchedManifest> => {
      const key = `${repo}@${ref}`;
      let m = fetched.get(key);
      if (!m) {
        m = await new Repository(client, repo).getManifest(ref);
        fetched.set(key, m);
        fetched.set(`${repo}@${m.digest}`, m);
      }
      return m;
    };
    const repoOf = new Map(o.sources.map((s, i) => [s, sources[i]!]));
    const reader: IndexSourceReader = {
      describe: async (src) => {
        const r = repoOf.get(src)!;
        const m = await manifest(r.repository, r.digest ?? r.tag!);
        return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      },
      readIndex: async (d, src) => parseIndex((await manifest(repoOf.get(src)!.repository, d.digest)).bytes, `image index ${src}`),
      platformOf: async (d, src) => configPlatform(client, repoOf.get(src)!.repository, parseManifest((await manifest(repoOf.get(src)!.repository, d.digest)).bytes, `manifest ${src}`), src),
    };
    const { entries, sources: merged } = await mergeIndexSources(reader, o.sources);
    const bytes = Buffer.from(canonicalJson(imageIndex(entries)));
    const descriptor: Descriptor = { mediaType: MediaType.ociIndex, digest: sha256Digest(bytes), size: bytes.length };
    if (o.dryRun) return { descriptor, bytes, entries };
    for (const t of tags) {
      const target = new Repository(client, t.repository, "pull,push");
      for (const s of merged) {
        const from = repoOf.get(s.source)!.repository;
        if (from === t.repository) continue;
        for (const e of s.entries) await copyManifest(target, from, e.digest, manifest, o.onEvent);
      }
      await target.putManifest(t.tag!, bytes, MediaType.ociIndex);
      o.onEvent?.({ type: "tagged", reference: formatReference(t), digest: descriptor.digest });
    }
    return { descriptor, bytes, entries };
  } finally {
    await client.close();
  }
}

/** The manifest `digest` of repository `from` into `target`: its blobs mounted, its children (an index's) first, then itself by digest. */
async function copyManifest(
  target: Repository,
  from: string,
  digest: Digest,
  manifest: (repo: string, ref: string) => Promise<FetchedManifest>,
  onEvent: ((e: ImagetoolsEvent) => void) | undefined,
): Promise<void> {
  if (await target.headManifest(digest)) {
    onEvent?.({ type: "manifest", repository: target.name, digest, result: "exists" });
    return;
  }
  const m = await manifest(from, digest);
  if (isIndexMediaType(m.mediaType)) {
    for (const c of parseIndex(m.bytes, `image index ${from}@${digest}`).manifests) await copyManifest(target, from, c.digest, manifest, onEvent);
  } else if (isManifestMediaType(m.mediaType)) {
    const doc = parseManifest(m.bytes, `manifest ${from}@${digest}`);
    for (const b of [doc.config, ...doc.layers]) {
      if ((await target.headBlob(b.digest)) !== undefined) {
        onEvent?.({ type: "blob", repository: target.name, digest: b.digest, result: "exists" });
        continue;
      }
      const r = await mountBlob(target, b.digest, from);
      if (!r.mounted) {
        await target.client.send({ method: "DELETE", path: r.location, scopes: target.scopes, ok: [404, 405], retry: false }).then((x) => x.body.dump()).catch(() => {});
        throw new KilnError("MOUNT_REFUSED", `${target.client.host} would not mount blob ${b.digest} from ${from} into ${target.name}`, {
          hint: "imagetools create moves no layer bytes; push the image to the target repository first, or use a source in the same repository",
        });
      }
      onEvent?.({ type: "blob", repository: target.name, digest: b.digest, result: "mounted" });
    }
  }
  await target.putManifest(digest, m.bytes, m.mediaType);
  onEvent?.({ type: "manifest", repository: target.name, digest, result: "copied" });
}

async function configPlatform(client: RegistryClient, repo: string, m: { config: Descriptor }, src: string): Promise<Platform> {
  const body = await new Repository(client, repo).getBlob(m.config.digest);
  const c = parseConfig(await readCapped(body, { what: `config of ${src}`, limit: MAX_CONFIG_BYTES }), `config of ${src}`);
  return normalizePlatform({ os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) });
}

export interface InspectedRef {
  readonly reference: string;
  readonly descriptor: Descriptor;
  /** The manifest or index exactly as the registry holds it. */
  readonly bytes: Buffer;
  /** For an index: its entries; for a manifest: its platform (from the config). */
  readonly manifests?: readonly Descriptor[];
  readonly platform?: Platform;
  /** Who answered (a mirror's host, or the registry's). */
  readonly host: string;
}

/** What REF is on the registry (mirrors first, as a pull): no layer is fetched. */
export async function inspectRemote(o: ClientOptions & { readonly ref: string }): Promise<InspectedRef> {
  const ref = parseRef(o.ref);
  const src = await openPullSource(ref, o, (repo) => repo.getManifest(ref.digest ?? ref.tag!));
  try {
    const m = src.first;
    const descriptor: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    const base = { reference: formatReference(ref), descriptor, bytes: m.bytes, host: src.host };
    if (isIndexMediaType(m.mediaType)) return { ...base, manifests: parseIndex(m.bytes, `image index ${o.ref}`).manifests };
    if (!isManifestMediaType(m.mediaType)) return base;
    return { ...base, platform: await configPlatform(src.client, ref.repository, parseManifest(m.bytes, `manifest ${o.ref}`), o.ref) };
  } finally {
    await src.client.close();
  }
}

function parseRef(value: string): Reference {
  try {
    return parseReference(value);
  } catch (e) {
    throw new KilnError("INVALID_REFERENCE", (e as Error).message, { cause: e });
  }
}
