// The cache keys of COPY/ADD and WORKDIR: the canonical encoding of the
// resolved step (plan/resolve-copy.ts), the value the executor runs, so
// that key and execution cannot disagree. The resolved value is encoded
// whole (canonical JSON, keys sorted), so a field added to it later is in
// the key without anyone remembering to add it; test/cache/copy-key.test.ts
// mutates each field and pins a golden key per kind.
// v2: these steps used to be keyed by the instruction text plus the ARG/ENV
// values it mentions (kiln.cache.step.v1), interpreted apart from the copy.
import { canonicalJson } from "../store/canonical-json.js";
import type { ResolvedCopy, ResolvedWorkdir } from "../plan/resolve-copy.js";
import type { Digest } from "../oci/digest.js";
import { digestFields } from "./key.js";
import type { StepInputs } from "./records.js";

export const COPY_KEY_VERSION = "kiln.cache.copy.v2";
export const WORKDIR_KEY_VERSION = "kiln.cache.workdir.v2";

/** Where a step runs: the same three fields start every step key. */
export interface StepPoint {
  /** chainID of the rootfs the step runs on ("" for an empty rootfs). */
  readonly chainId: string;
  /** os/arch[/variant] the step runs for. */
  readonly platform: string;
  /** SOURCE_DATE_EPOCH the layer is clamped to ("" when none): it changes the layer's bytes. */
  readonly epoch: string;
}

export interface CopyKeyInput extends StepPoint {
  readonly copy: ResolvedCopy;
  /**
   * Per source, what it reads: the content digest of the files it selects
   * (context or named context), or the chainID of --from's stage or image.
   */
  readonly content: readonly string[];
}

export interface WorkdirKeyInput extends StepPoint {
  readonly workdir: ResolvedWorkdir;
}

const list = (name: string, xs: readonly string[]): string[] => [name, String(xs.length), ...xs];

export function copyKey(input: CopyKeyInput): Digest {
  return digestFields([COPY_KEY_VERSION, input.chainId, input.platform, input.epoch, canonicalJson(input.copy), ...list("content", input.content)]);
}

export function workdirKey(input: WorkdirKeyInput): Digest {
  return digestFields([WORKDIR_KEY_VERSION, input.chainId, input.platform, input.epoch, canonicalJson(input.workdir)]);
}

/**
 * What a later miss is explained against: the instruction as written, and
 * the resolved step's fields (a changed ARG shows as the word it changed).
 */
export function fileStepInputs(
  point: StepPoint & { readonly base: string; readonly instruction: string },
  step: ResolvedCopy | ResolvedWorkdir,
  read?: { readonly files?: Readonly<Record<string, string>>; readonly from?: string },
): StepInputs {
  const { createdBy: _history, ...config } = step;
  return {
    instruction: point.instruction,
    platform: point.platform,
    chainId: point.chainId,
    base: point.base,
    config,
    args: {},
    epoch: point.epoch,
    ...(read?.files ? { files: read.files } : {}),
    ...(read?.from ? { from: read.from } : {}),
  };
}
