// The distribution-spec endpoints of one repository: manifests, blobs,
// mounts, tags and referrers. Each method is one request (plus its
// retries, retry.ts) unless it says otherwise; pull.ts, push.ts and
// referrers.ts compose them. Documents are read whole but bounded
// (oci/limits.ts): a 200 MB "manifest" is refused after 4 MiB.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { request } from "./http.js";
import type { Descriptor } from "../oci/descriptor.js";
import { type Digest, isDigest } from "../oci/digest.js";
import { MAX_MANIFEST_BYTES } from "../oci/limits.js";
import { MediaType } from "../oci/media-types.js";
import { KilnError } from "../util/errors.js";
import { readCapped } from "../util/read-capped.js";
import type { RegistryClient, Response } from "./client.js";

/** Everything a manifest GET may answer with, preferred first. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(", ");

export interface ManifestHead {
  readonly mediaType: string;
  readonly digest?: Digest;
  readonly size?: number;
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
}

export interface ManifestPut {
  /** Docker-Content-Digest: what the registry computed. */
  readonly digest?: Digest;
  /** OCI-Subject (distribution spec 1.1): present only when the registry
   * indexed the manifest's subject for its referrers API. */
  readonly subject?: Digest;
}

export interface ReferrersAnswer {
  readonly manifests: Descriptor[];
  /** The registry applied the artifactType filter (OCI-Filters-Applied);
   * when false the caller must filter. */
  readonly filtered: boolean;
}

export class Repository {
  readonly client: RegistryClient;
  readonly name: string;
  readonly scopes: string[];

  constructor(client: RegistryClient, name: string, actions: "pull" | "pull,push" = "pull") {
    this.client = client;
    this.name = name;
    this.scopes = [`repository:${name}:${actions}`];
  }

  /** HEAD a manifest; undefined when the registry does not have it. */
  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    return this.client.attempt(`HEAD ${this.client.host}/v2/${this.name}/manifests/${reference}`, () => this.headManifestOnce(reference));
  }

  /** headManifest's single attempt, for an operation that retries as a whole. */
  async headManifestOnce(reference: string): Promise<ManifestHead | undefined> {
    const r = await this.client.send({
      method: "HEAD",
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.scopes,
      ok: [404],
      what: `manifest ${this.name}:${reference}`,
      retry: false,
    });
    await r.body.dump();
    if (r.status === 404) return undefined;
    const digest = header(r.headers["docker-content-digest"]);
    const size = Number(header(r.headers["content-length"]));
    return {
      mediaType: header(r.headers["content-type"]) ?? MediaType.ociManifest,
      ...(digest && isDigest(digest) ? { digest } : {}),
      ...(Number.isFinite(size) ? { size } : {}),
    };
  }

  /** GET a manifest by tag or digest, verifying the bytes against the
   * digest asked for (by digest) or announced (Docker-Content-Digest).
   * Request, read and checks are retried together: a truncated or
   * corrupted body is worth another GET. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    return this.client.attempt(`GET ${this.client.host}/v2/${this.name}/manifests/${reference}`, () => this.#getManifestOnce(reference));
  }

  async #getManifestOnce(reference: string): Promise<FetchedManifest> {
    const r = await this.client.send({
      method: "GET",
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.scopes,
      what: `manifest ${this.name}:${reference}`,
      retry: false,
    });
    const bytes = await readCapped(r.body, {
      what: `manifest ${this.name}:${reference} from ${this.client.host}`,
      limit: MAX_MANIFEST_BYTES,
      announced: Number(header(r.headers["content-length"])),
    });
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    const want = isDigest(reference) ? reference : header(r.headers["docker-content-digest"]);
    if (want && want !== digest) {
      throw Object.assign(
        new KilnError("DIGEST_MISMATCH", `manifest ${this.name}@${want} from ${this.client.host} has digest ${digest}`, {
          hint: "the registry or the network corrupted it; retry",
        }),
        { retryable: true },
      );
    }
    const contentLength = Number(header(r.headers["content-length"]));
    if (Number.isFinite(contentLength) && contentLength !== bytes.length) {
      throw Object.assign(new KilnError("SHORT_READ", `manifest ${this.name}:${reference}: got ${bytes.length} of ${contentLength} bytes`), { retryable: true });
    }
    let mediaType = header(r.headers["content-type"])?.split(";")[0]?.trim();
    try {
      // `null` or `[]` parse too; what they are is decided by pull's schema check.
      const j = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown; manifests?: unknown } | null;
      mediaType = (typeof j?.mediaType === "string" ? j.mediaType : undefined) ?? (mediaType && mediaType !== "application/json" ? mediaType : j?.manifests ? MediaType.ociIndex : MediaType.ociManifest);
    } catch (e) {
      throw Object.assign(new KilnError("MANIFEST_INVALID", `manifest ${this.name}:${reference} from ${this.client.host} is not JSON`, { cause: e }), { retryable: !want });
    }
    return { mediaType: mediaType!, digest, bytes };
  }

  /** PUT a manifest under a tag or its digest; returns the registry's digest. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<Digest | undefined> {
    return (await this.uploadManifest(reference, bytes, mediaType)).digest;
  }

  /** putManifest, with the headers a referrer's push needs to act on. */
  async uploadManifest(reference: string, bytes: Buffer, mediaType: string): Promise<ManifestPut> {
    const r = await this.client.send({
      method: "PUT",
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { "content-type": mediaType },
      body: bytes,
      scopes: this.scopes,
      what: `manifest ${this.name}:${reference}`,
    });
    await r.body.dump();
    const d = header(r.headers["docker-content-digest"]);
    const s = header(r.headers["oci-subject"]);
    return { ...(d && isDigest(d) ? { digest: d } : {}), ...(s && isDigest(s) ? { subject: s } : {}) };
  }

  /** GET /v2/<name>/referrers/<digest>, every page; undefined when the
   * registry has no referrers API (the spec's signal for that is a 404:
   * a registry that has it answers an empty index for an unknown digest). */
  async referrers(digest: Digest, artifactType?: string): Promise<ReferrersAnswer | undefined> {
    const manifests: Descriptor[] = [];
    let filtered = false;
    let path: string | undefined = `/v2/${this.name}/referrers/${digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ""}`;
    for (let first = true; path; first = false) {
      const r = await this.client.send({
        method: "GET",
        path,
        headers: { accept: MediaType.ociIndex },
        scopes: this.scopes,
        ok: first ? [404] : [],
        what: `referrers of ${this.name}@${digest}`,
      });
      if (r.status === 404) {
        await r.body.dump();
        return undefined;
      }
      const text = (await readCapped(r.body, { what: `the referrers of ${this.name}@${digest} from ${this.client.host}`, limit: MAX_MANIFEST_BYTES })).toString("utf8");
      let j: { manifests?: unknown };
      try {
        j = JSON.parse(text) as { manifests?: unknown };
      } catch (e) {
        throw new KilnError("MANIFEST_INVALID", `the referrers of ${this.name}@${digest} from ${this.client.host} are not JSON`, { cause: e });
      }
      if (!Array.isArray(j.manifests)) throw new KilnError("MANIFEST_INVALID", `the referrers of ${this.name}@${digest} from ${this.client.host} are not an image index`);
      manifests.push(...(j.manifests as Descriptor[]));
      filtered ||= (header(r.headers["oci-filters-applied"]) ?? "").split(",").some((f) => f.trim() === "artifactType");
      path = nextPage(r.headers.link);
    }
    return { manifests, filtered };
  }

  /** The blob's size on the registry, or undefined when it is absent.
   * `retry: false` inside an operation that retries as a whole. */
  async headBlob(digest: Digest, retry = true): Promise<number | undefined> {
    const r = await this.client.send({ method: "HEAD", path: `/v2/${this.name}/blobs/${digest}`, scopes: this.scopes, ok: [404], what: `blob ${digest}`, retry });
    await r.body.dump();
    if (r.status === 404) return undefined;
    const n = Number(header(r.headers["content-length"]));
    return Number.isFinite(n) ? n : -1;
  }

  /** A single attempt at streaming a blob (the caller verifies and
   * retries the whole download: blob-download.ts). */
  async getBlob(digest: Digest): Promise<Readable> {
    const r = await this.client.send({
      method: "GET",
      path: `/v2/${this.name}/blobs/${digest}`,
      scopes: this.scopes,
      what: `blob ${this.name}@${digest}`,
      ok: [301, 302, 303, 307, 308],
      retry: false,
    });
    if (r.status < 300) return r.body;
    // Storage backends redirect to a signed URL: follow without our credentials.
    await r.body.dump();
    const location = header(r.headers.location);
    if (!location) throw new KilnError("REGISTRY_HTTP_ERROR", `${this.client.host} redirected blob ${digest} without a Location`);
    const res = await request(new URL(location, r.url), { dispatcher: this.client.agent, method: "GET", ...(this.client.opts.signal ? { signal: this.client.opts.signal } : {}) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw Object.assign(new KilnError("REGISTRY_HTTP_ERROR", `blob ${digest} redirect answered ${res.statusCode}`), { retryable: res.statusCode >= 500 });
    }
    return res.body;
  }

  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.name}/tags/list?n=1000`;
    while (path) {
      const r = await this.client.send({ method: "GET", path, scopes: this.scopes, what: `repository ${this.name}` });
      const j = parseJson<{ tags?: string[] | null }>(r, await readCapped(r.body, { what: `the tag list of ${this.name} from ${this.client.host}`, limit: MAX_MANIFEST_BYTES }));
      tags.push(...(j.tags ?? []));
      path = nextPage(r.headers.link);
    }
    return tags;
  }
}

function parseJson<T>(r: Response, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch (e) {
    throw new KilnError("REGISTRY_PROTOCOL", `${new URL(r.url).host} answered ${new URL(r.url).pathname} with something that is not JSON`, { cause: e });
  }
}

/** The next page of a paginated list: Link: </v2/x/tags/list?n=1000&last=y>; rel="next". */
function nextPage(link: string | string[] | undefined): string | undefined {
  const v = header(link);
  return v ? /<([^>]+)>/.exec(v)?.[1] : undefined;
}

export function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
