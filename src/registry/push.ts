// Push: every blob first (HEAD and skip, mount from a sibling repository,
// or upload; in parallel, bounded), then manifests bottom-up (an index's
// children before the index), the tag last. A push that fails part-way has
// written only blobs and complete manifests, so the registry never holds a
// manifest that points at a missing blob. With `referrers`, each manifest
// that has a subject is then made findable from it (referrers.ts), right
// after its own upload and so before the tag.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { formatReference, parseReference, type Reference } from "../oci/reference.js";
import type { Store } from "../store/store.js";
import { normalizeTagName } from "../store/refs.js";
import { KilnError } from "../util/errors.js";
import { remoteOrigin } from "../store/remote-blobs.js";
import { mountBlob, pushBlob, type UploadResult } from "./blob-upload.js";
import { fetchFromOrigin } from "./remote-blob.js";
import { throttledBytes } from "./byte-events.js";
import type { ClientOptions, RegistryClient } from "./client.js";
import { clientFor } from "./hosts.js";
import { mapLimit } from "./limit.js";
import { asReferrer, recordReferrer, type Referrer, type ReferrerResult } from "./referrers.js";
import { type ManifestPut, Repository } from "./repository.js";

export type PushEvent =
  | { readonly type: "blob"; readonly digest: Digest; readonly size: number; readonly result: UploadResult; readonly from?: string }
  | { readonly type: "manifest"; readonly digest: Digest; readonly reference: string; readonly result: "exists" | "uploaded" }
  | { readonly type: "referrer"; readonly digest: Digest; readonly subject: Digest; readonly result: ReferrerResult }
  /** Bytes of a blob sent so far; the last one has bytes === size. */
  | { readonly type: "progress"; readonly digest: Digest; readonly size: number; readonly bytes: number };

export interface PushOptions extends ClientOptions {
  readonly store: Store;
  /** A local name ("app:1") or manifest/index digest. */
  readonly image: string;
  /** Where to push; default: the image's own name. */
  readonly ref?: string;
  /** Blob uploads in flight (default 4). */
  readonly concurrency?: number;
  /** PATCH chunk size for large blobs (default 64 MiB). */
  readonly chunkSize?: number;
  readonly onEvent?: (e: PushEvent) => void;
  readonly client?: RegistryClient;
  /** OCI 1.1: make every pushed manifest that has a `subject` (attestation
   * manifests) listable from it, through the registry's referrers API or,
   * where it has none, the referrers tag <alg>-<hex>. */
  readonly referrers?: boolean;
}

export interface PushResult {
  readonly reference: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

interface Plan {
  /** Unique config and layer blobs. */
  readonly blobs: Descriptor[];
  /** Manifests in upload order: children before the index that lists them. */
  readonly manifests: Descriptor[];
  /** The manifests among them that have a subject. */
  readonly referrers: Map<Digest, Referrer>;
}

/** HEAD requests at once in the first wave (the connection pool holds 16). */
const HEADS_IN_FLIGHT = 16;

export async function pushImage(o: PushOptions): Promise<PushResult> {
  const top = await findLocal(o.store, o.image);
  const destText = o.ref ?? top.name;
  if (!destText) throw new KilnError("USAGE", `"${o.image}" has no name to push to`, { hint: "give a destination: kiln push IMAGE REGISTRY/REPO:TAG" });
  const dest = parseRef(destText);
  const client = o.client ?? clientFor(dest.registry, o);
  try {
    const repo = new Repository(client, dest.repository, "pull,push");
    const plan = await planPush(o.store, top.descriptor);
    const referenceOf = (m: Descriptor): string => (m.digest === top.descriptor.digest && dest.tag && !dest.digest ? dest.tag : m.digest);
    // One wave of HEADs, every blob and manifest at once: an unchanged
    // re-push is this one round trip (after /v2/) and nothing else.
    // allSettled: a failure in one list must not leave the other's
    // requests running after the push has failed and closed its client.
    const [blobHeads, manifestHeads] = await Promise.allSettled([
      mapLimit(plan.blobs, HEADS_IN_FLIGHT, (d) => repo.headBlob(d.digest)),
      mapLimit(plan.manifests, HEADS_IN_FLIGHT, (m) => repo.headManifest(referenceOf(m))),
    ]);
    if (blobHeads.status === "rejected") throw blobHeads.reason;
    if (manifestHeads.status === "rejected") throw manifestHeads.reason;
    const [blobHave, manifestHave] = [blobHeads.value, manifestHeads.value];
    const missing = plan.blobs.filter((d, i) => {
      if (blobHave[i] === undefined) return true;
      o.onEvent?.({ type: "blob", digest: d.digest, size: d.size, result: "exists" });
      return false;
    });
    const sources = missing.length ? await mountSources(o.store, dest) : new Map<Digest, string[]>();
    await mapLimit(missing, o.concurrency ?? 4, async (d) => {
      let from = sources.get(d.digest) ?? [];
      const onBytes = o.onEvent ? throttledBytes(d.size, (bytes) => o.onEvent!({ type: "progress", digest: d.digest, size: d.size, bytes })) : undefined;
      if (!(await o.store.hasBlob(d.digest))) {
        const origin = remoteOrigin(o.store.paths, d.digest)!;
        if (origin.registry === dest.registry && (await mountOnly(repo, d.digest, origin.repository))) {
          o.onEvent?.({ type: "blob", digest: d.digest, size: d.size, result: "mounted", from: origin.repository });
          return;
        }
        // Another registry (or a refused mount): the bytes have to come here first.
        await fetchFromOrigin(o.store, d, origin, o);
        from = from.filter((r) => r !== origin.repository);
      }
      const result = await pushBlob(repo, d, { path: o.store.blobPath(d.digest) }, { mountFrom: from, knownAbsent: true, ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}), ...(onBytes ? { onBytes } : {}) });
      o.onEvent?.({ type: "blob", digest: d.digest, size: d.size, result, ...(result === "mounted" && from[0] ? { from: from[0] } : {}) });
    });
    for (const [i, m] of plan.manifests.entries()) {
      const reference = referenceOf(m);
      let put: ManifestPut | undefined;
      if (manifestHave[i]?.digest === m.digest) {
        o.onEvent?.({ type: "manifest", digest: m.digest, reference, result: "exists" });
      } else {
        // The exact stored bytes, so the registry computes the same digest.
        put = await repo.uploadManifest(reference, await o.store.readBlob(m.digest), m.mediaType);
        if (put.digest && put.digest !== m.digest) {
          throw new KilnError("DIGEST_MISMATCH", `${client.host} stored manifest ${m.digest} as ${put.digest}`, { hint: "the registry rewrote the manifest; it may not support this media type" });
        }
        o.onEvent?.({ type: "manifest", digest: m.digest, reference, result: "uploaded" });
      }
      const doc = o.referrers ? plan.referrers.get(m.digest) : undefined;
      if (doc) {
        const result = await recordReferrer(repo, m, doc, put);
        o.onEvent?.({ type: "referrer", digest: m.digest, subject: doc.subject.digest, result });
      }
    }
    const name = formatReference({ registry: dest.registry, repository: dest.repository, ...(dest.tag && !dest.digest ? { tag: dest.tag } : {}) });
    return { reference: name, digest: top.descriptor.digest, mediaType: top.descriptor.mediaType, size: top.descriptor.size };
  } finally {
    if (!o.client) await client.close();
  }
}

async function findLocal(store: Store, image: string): Promise<{ descriptor: Descriptor; name?: string }> {
  let full: string | undefined;
  try {
    full = normalizeTagName(image);
  } catch {
    full = undefined;
  }
  const hit = full ? (await store.listImages()).find((r) => r.name === full) : undefined;
  if (hit) return { descriptor: hit.descriptor, name: hit.name };
  const img = await store.resolveImage(image);
  if (!img) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${image}`, { hint: "kiln images lists the images in the store" });
  return { descriptor: img.manifestDescriptor, ...(img.name ? { name: img.name } : {}) };
}

async function planPush(store: Store, top: Descriptor): Promise<Plan> {
  const blobs = new Map<Digest, Descriptor>();
  const manifests: Descriptor[] = [];
  const referrers: Plan["referrers"] = new Map();
  const visit = async (d: Descriptor): Promise<void> => {
    if (manifests.some((m) => m.digest === d.digest)) return;
    if (isIndexMediaType(d.mediaType)) {
      const idx = await store.readJson<ImageIndex>(d.digest);
      const referrer = asReferrer(idx);
      if (referrer) referrers.set(d.digest, referrer);
      for (const c of idx.manifests) {
        if (!(await store.hasBlob(c.digest))) {
          throw new KilnError("MISSING_BLOB", `cannot push ${top.digest}: its child ${c.digest} is not in the store`, { hint: "pull or build every platform first" });
        }
        await visit(c);
      }
    } else if (isManifestMediaType(d.mediaType)) {
      const m = await store.readJson<ImageManifest>(d.digest);
      const referrer = asReferrer(m);
      if (referrer) referrers.set(d.digest, referrer);
      for (const b of [m.config, ...m.layers]) {
        // A layer the store knows only by its origin (a lazy base or cache layer) is pushed without its bytes when it can be.
        if (!(await store.hasBlob(b.digest)) && !remoteOrigin(store.paths, b.digest)) throw new KilnError("MISSING_BLOB", `cannot push: blob ${b.digest} of ${d.digest} is not in the store`);
        blobs.set(b.digest, b);
      }
    } else {
      throw new KilnError("UNSUPPORTED_MEDIA_TYPE", `cannot push ${d.digest}: unknown media type ${d.mediaType}`);
    }
    manifests.push(d);
  };
  await visit(top);
  return { blobs: [...blobs.values()], manifests, referrers };
}

/** Which repositories on the destination's registry already hold each
 * blob, as far as the store knows: images named after them (pulled from or
 * pushed to them) whose manifests list the blob. */
async function mountSources(store: Store, dest: Reference): Promise<Map<Digest, string[]>> {
  const out = new Map<Digest, string[]>();
  for (const r of await store.listImages()) {
    let ref: Reference;
    try {
      ref = parseReference(r.name);
    } catch {
      continue;
    }
    if (ref.registry !== dest.registry || ref.repository === dest.repository || !isManifestMediaType(r.descriptor.mediaType)) continue;
    const m = await store.readJson<ImageManifest>(r.descriptor.digest).catch(() => undefined);
    for (const b of m ? [m.config, ...m.layers] : []) {
      const list = out.get(b.digest) ?? [];
      if (!list.includes(ref.repository)) list.push(ref.repository);
      out.set(b.digest, list);
    }
  }
  return out;
}

/** A cross-repository mount and nothing else: a refused one's upload session is cancelled, not used. */
async function mountOnly(repo: Repository, digest: Digest, from: string): Promise<boolean> {
  if (from === repo.name) return false;
  const r = await mountBlob(repo, digest, from);
  if (r.mounted) return true;
  await repo.client.send({ method: "DELETE", path: r.location, scopes: repo.scopes, ok: [404, 405], retry: false }).then((x) => x.body.dump()).catch(() => {});
  return false;
}

function parseRef(value: string): Reference {
  try {
    return parseReference(value);
  } catch (e) {
    throw new KilnError("INVALID_REFERENCE", (e as Error).message, { cause: e });
  }
}
