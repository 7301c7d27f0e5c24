// What a build did, recorded as it runs, for provenance: which bases it
// resolved to which digests, and (per step) what it read and what it made.
// Plain data; attest/provenance.ts turns it into an SLSA predicate.
import type { Digest } from "../oci/digest.js";
import type { Platform } from "../oci/platform.js";

export interface ResolvedBase {
  /** As the Dockerfile (or --build-context) named it: busybox:latest, reg/app:1. */
  readonly ref: string;
  /** The image manifest digest it resolved to. */
  readonly digest: Digest;
  readonly platform: Platform;
}

export interface StepTrace {
  readonly stage: number;
  readonly stageName?: string;
  /** The instruction as written (variables unexpanded). */
  readonly instruction: string;
  readonly line: number;
  readonly cached: boolean;
  /** The step's cache key (filesystem steps with known inputs). */
  readonly key?: Digest;
  /** diffID of the layer the step made. */
  readonly layer?: Digest;
  /** Context files the step read: path relative to the context -> content digest. */
  readonly files?: Readonly<Record<string, string>>;
  /** COPY --from / RUN --mount=from: the source and its filesystem's identity. */
  readonly from?: string;
}

export interface BuildTrace {
  readonly startedOn: string;
  readonly finishedOn: string;
  /** The Dockerfile as named relative to the context, and its digest. */
  readonly dockerfile: { readonly path: string; readonly digest: Digest };
  readonly bases: readonly ResolvedBase[];
  readonly steps: readonly StepTrace[];
}
