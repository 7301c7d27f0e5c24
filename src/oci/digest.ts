// Content addresses. A branded string so a tag or a path can never be passed
// where a verified digest is expected.
import { createHash } from "node:crypto";

export type Digest = string & { readonly __brand: "Digest" };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export class InvalidDigestError extends Error {
  readonly code = "INVALID_DIGEST";
  constructor(readonly value: string) {
    super(`invalid digest "${value}": expected sha256:<64 hex digits>`);
  }
}

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw new InvalidDigestError(value);
  return value;
}

export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}` as Digest;
}

export function digestFromHex(hex: string): Digest {
  return parseDigest(`sha256:${hex}`);
}

/** The hex part, used as a file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}
