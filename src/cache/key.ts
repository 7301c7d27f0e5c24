// Cache keys from canonical bytes: a version tag, then every field as
// <4-byte big-endian length><utf-8 bytes>, hashed with sha256. No separator
// can be confused with content (kaniko's joined strings could), and the
// version tag lets the format change without misreading old records. Once
// keys live in registries the format is forever: tests pin golden keys.
import { createHash } from "node:crypto";
import type { Digest } from "../oci/digest.js";

export const KEY_VERSION = "kiln.cache.step.v1";

export interface StepKeyInput {
  /** chainID of the rootfs the step runs on ("" for an empty rootfs). */
  readonly chainId: string;
  /** os/arch[/variant] the step runs for. */
  readonly platform: string;
  /** The instruction as written (keyword, flags, arguments). */
  readonly instruction: string;
  /** Config the step sees: Env, User, WorkingDir, Shell (canonical JSON). */
  readonly config: string;
  /** Build args in scope with their values, sorted by name. */
  readonly args: ReadonlyArray<readonly [string, string]>;
  /** Digest of the exact source files a COPY/ADD selects ("" otherwise). */
  readonly content: string;
  /** SOURCE_DATE_EPOCH the layer's times were clamped to ("" when none): it changes the layer's bytes. */
  readonly epoch: string;
}

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

export function stepKey(input: StepKeyInput): Digest {
  return digestFields([
    KEY_VERSION,
    input.chainId,
    input.platform,
    input.instruction,
    input.config,
    String(input.args.length),
    ...input.args.flatMap(([k, v]) => [k, v]),
    input.content,
    input.epoch,
  ]);
}
