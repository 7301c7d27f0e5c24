// in-toto Statement v1: the envelope every kiln attestation is written in.
// The subject names the image the way BuildKit does, as a docker purl with
// its platform, and carries the image manifest's digest.
import { digestHex, type Digest } from "../oci/digest.js";
import { formatPlatform, type Platform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";

export const PredicateType = {
  slsaProvenance: "https://slsa.dev/provenance/v1",
  spdx: "https://spdx.dev/Document",
} as const;

export interface Subject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
}

export interface Statement<P = unknown> {
  readonly _type: typeof STATEMENT_TYPE;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: P;
}

export function statement<P>(predicateType: string, subject: readonly Subject[], predicate: P): Statement<P> {
  return { _type: STATEMENT_TYPE, subject, predicateType, predicate };
}

/**
 * One subject per tag (`pkg:docker/app@1?platform=linux%2Famd64`), or a
 * single `pkg:docker/_` subject for an untagged image, each with the image
 * manifest digest. The platform query keeps per-platform statements of one
 * index apart.
 */
export function imageSubjects(tags: readonly string[], platform: Platform, manifest: Digest): Subject[] {
  const digest = { sha256: digestHex(manifest) };
  const query = `?platform=${encodeURIComponent(formatPlatform(platform))}`;
  if (tags.length === 0) return [{ name: `pkg:docker/_${query}`, digest }];
  return tags.map((t) => ({ name: `${dockerPurl(t)}${query}`, digest }));
}

/** pkg:docker/NAMESPACE/NAME@TAG, the registry kept as a leading path segment as BuildKit does (docker.io/library/x → x). */
export function dockerPurl(ref: string): string {
  const r = parseReference(ref);
  const name = r.registry === "docker.io" ? r.repository.replace(/^library\//, "") : `${r.registry}/${r.repository}`;
  const path = name.split("/").map(encodeURIComponent).join("/");
  return `pkg:docker/${path}${r.tag ? `@${encodeURIComponent(r.tag)}` : ""}`;
}
