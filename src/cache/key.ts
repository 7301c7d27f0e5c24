// Cache keys from canonical bytes: a version tag, then every field as
// <4-byte big-endian length><utf-8 bytes>, hashed with sha256. No separator
// can be confused with content (kaniko's joined strings could), and the
// version tag lets the format change without misreading old records. Once
// keys live in registries the format is forever: tests pin golden keys.
// Each step kind has its own key module and version tag: run-key.ts
// (kiln.cache.run.v2), copy-key.ts (kiln.cache.copy.v2, kiln.cache.workdir.v2);
// the kiln.cache.step.v1 keys of the instruction text are no longer made.
import { createHash } from "node:crypto";
import type { Digest } from "../oci/digest.js";

function field(h: ReturnType<typeof createHash>, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  h.update(len);
  h.update(bytes);
}

/** sha256 over length-prefixed fields: the one canonical encoding every step key uses. */
export function digestFields(fields: readonly string[]): Digest {
  const h = createHash("sha256");
  for (const f of fields) field(h, f);
  return `sha256:${h.digest("hex")}` as Digest;
}
