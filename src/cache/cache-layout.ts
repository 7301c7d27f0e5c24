// The exported build cache (docs/cache-format.md): an OCI image layout whose
// one manifest has the step records as its config and, as layers, the
// compressed layer of every record plus (with mounts=true) one tarball per
// RUN --mount=type=cache directory. Registries store it like any image.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { StepRecord } from "./records.js";

export const CacheMediaType = {
  artifact: "application/vnd.kiln.cache.v1",
  config: "application/vnd.kiln.cache.config.v1+json",
} as const;

/** Annotations on the manifest's layers. */
export const CacheAnnotation = {
  /** The diffID a layer blob unpacks to. */
  diffId: "dev.kiln.cache.diff-id",
  /** A cache mount's directory name under cache/mounts/ (the hashed id). */
  mount: "dev.kiln.cache.mount",
} as const;

export interface CacheConfig {
  readonly version: 1;
  readonly records: readonly StepRecord[];
}

export type CacheTarget =
  | { readonly kind: "local"; readonly dir: string }
  | { readonly kind: "registry"; readonly ref: string };

export interface CacheExportOptions {
  readonly to: CacheTarget;
  /** min: the target stage's steps; max: every stage's. */
  readonly mode: "min" | "max";
  /** Also export RUN --mount=type=cache directories. */
  readonly mounts: boolean;
}

export interface CacheLayer {
  readonly descriptor: Descriptor;
  readonly diffId?: Digest;
  readonly mount?: string;
}
