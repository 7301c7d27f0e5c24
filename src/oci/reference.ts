// Docker image references: "hello" -> docker.io/library/hello:latest,
// host:port/repo:tag, repo@sha256:..., repo:tag@sha256:... (digest wins).
import { type Digest, parseDigest } from "./digest.js";

export interface Reference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export class InvalidReferenceError extends Error {
  readonly code = "INVALID_REFERENCE";
  constructor(readonly value: string, why: string) {
    super(`invalid image reference "${value}": ${why}`);
  }
}

const DOCKER_HUB = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseReference(value: string): Reference {
  let rest = value.trim();
  if (rest === "") throw new InvalidReferenceError(value, "empty name");
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch {
      throw new InvalidReferenceError(value, "the part after @ is not a sha256 digest");
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(value, `invalid tag "${tag}"`);
  }
  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (registry === "index.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  for (const c of path.split("/")) {
    if (!COMPONENT.test(c)) throw new InvalidReferenceError(value, `repository name must be lowercase letters, digits and separators ("${c}")`);
  }
  if (!tag && !digest) tag = "latest";
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical full name: docker.io/library/hello:latest */
export function formatReference(r: Reference): string {
  let s = `${r.registry}/${r.repository}`;
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

/** The short name docker prints: hello:latest, 127.0.0.1:5000/x:1 */
export function familiarReference(r: Reference): string {
  let repo = `${r.registry}/${r.repository}`;
  if (r.registry === DOCKER_HUB) repo = r.repository.startsWith("library/") ? r.repository.slice(8) : r.repository;
  let s = repo;
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

export function normalizeReference(value: string): string {
  return formatReference(parseReference(value));
}

/** True when the name says which registry (reg.example:5000/app, localhost/app), so it can be pulled without guessing Docker Hub. */
export function hasExplicitRegistry(name: string): boolean {
  const first = name.split("/")[0]!;
  return name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
}
