// OCI 1.1 referrers: manifests whose `subject` names another manifest, as
// kiln's attestation manifests name the image they describe. A registry
// with the referrers API indexes them on PUT and says so with OCI-Subject;
// for any other registry the pusher keeps the referrers tag
// (referrers-tag.ts), and readers fall back to it when the API 404s.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { parseReference, type Reference } from "../oci/reference.js";
import { KilnError } from "../util/errors.js";
import type { ClientOptions, RegistryClient } from "./client.js";
import { clientFor } from "./hosts.js";
import { addToReferrersTag, readReferrersTag } from "./referrers-tag.js";
import { type ManifestPut, Repository } from "./repository.js";

/** The fields of a manifest or index that its referrer descriptor carries. */
export interface ReferrerDoc {
  readonly subject?: Descriptor;
  readonly artifactType?: string;
  readonly config?: { readonly mediaType: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

export type Referrer = ReferrerDoc & { readonly subject: Descriptor };

/** The referrer fields of a manifest or index read from the store;
 * undefined when it has no subject (it refers to nothing). */
export function asReferrer(doc: ReferrerDoc): Referrer | undefined {
  if (!doc.subject) return undefined;
  const { subject, artifactType, config, annotations } = doc;
  return { subject, ...(artifactType ? { artifactType } : {}), ...(config ? { config: { mediaType: config.mediaType } } : {}), ...(annotations ? { annotations } : {}) };
}

/** How a referrer was made findable: by the registry's referrers API, by
 * adding it to the referrers tag, or it was in the tag already. */
export type ReferrerResult = "registry" | "tagged" | "already-tagged";

/** The descriptor the referrers API would list for this manifest: the spec
 * takes artifactType from the manifest, else from its config's media type. */
export function referrerDescriptor(d: Descriptor, doc: ReferrerDoc): Descriptor {
  const artifactType = doc.artifactType ?? doc.config?.mediaType;
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(artifactType ? { artifactType } : {}),
    ...(doc.annotations && Object.keys(doc.annotations).length ? { annotations: doc.annotations } : {}),
  };
}

/**
 * Make a referrer that is already in `repo` findable from its subject.
 * `put` is the answer to its PUT, or undefined when it was there already
 * (nothing says whether the registry indexed it then, so ask the API).
 */
export async function recordReferrer(repo: Repository, d: Descriptor, doc: Referrer, put: ManifestPut | undefined): Promise<ReferrerResult> {
  const subject = doc.subject.digest;
  if (put?.subject === subject) return "registry";
  if (!put && (await repo.referrers(subject))) return "registry";
  return (await addToReferrersTag(repo, subject, referrerDescriptor(d, doc))) ? "tagged" : "already-tagged";
}

/** The referrers of `subject`, from the API if the registry has it, else from the tag. */
export async function readReferrers(repo: Repository, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
  const api = await repo.referrers(subject, artifactType);
  const all = api ? api.manifests : ((await readReferrersTag(repo, subject))?.manifests ?? []);
  return artifactType && !api?.filtered ? all.filter((d) => d.artifactType === artifactType) : [...all];
}

export interface ListReferrersOptions extends ClientOptions {
  /** REGISTRY/REPO@sha256:… or REGISTRY/REPO:TAG (the tag's manifest is the subject). */
  readonly ref: string;
  readonly artifactType?: string;
  /** Reuse a client (and its tokens); closed by the caller. */
  readonly client?: RegistryClient;
}

export async function listReferrers(o: ListReferrersOptions): Promise<Descriptor[]> {
  let ref: Reference;
  try {
    ref = parseReference(o.ref);
  } catch (e) {
    throw new KilnError("INVALID_REFERENCE", (e as Error).message, { cause: e });
  }
  const client = o.client ?? clientFor(ref.registry, o);
  try {
    const repo = new Repository(client, ref.repository, "pull");
    const subject = ref.digest ?? (await digestOfTag(repo, ref.tag!));
    return await readReferrers(repo, subject, o.artifactType);
  } finally {
    if (!o.client) await client.close();
  }
}

async function digestOfTag(repo: Repository, tag: string): Promise<Digest> {
  const head = await repo.headManifest(tag);
  if (!head) {
    throw new KilnError("REGISTRY_NOT_FOUND", `manifest ${repo.name}:${tag} not found on ${repo.client.host}`, { hint: "check the repository name and tag" });
  }
  // Docker-Content-Digest is optional on HEAD; the bytes always tell.
  return head.digest ?? (await repo.getManifest(tag)).digest;
}
