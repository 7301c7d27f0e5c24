import type { Digest } from "./digest.js";
import type { Platform } from "./platform.js";

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

export const Annotation = {
  refName: "org.opencontainers.image.ref.name",
  created: "org.opencontainers.image.created",
  /** docker/containerd: the full reference name a layout entry was tagged with. */
  containerdImageName: "io.containerd.image.name",
  /** BuildKit: "attestation-manifest" on an index entry that holds attestations. */
  referenceType: "vnd.docker.reference.type",
  /** BuildKit: the image manifest an attestation-manifest entry describes. */
  referenceDigest: "vnd.docker.reference.digest",
  /** On an in-toto layer: the statement's predicateType. */
  inTotoPredicateType: "in-toto.io/predicate-type",
  /**
   * kiln: on an index of the platforms pulled so far from a registry's index
   * (and on its store entry), that index's digest: the image's digest in the
   * registry, which `kiln images --digests` shows as docker does.
   */
  pulledFromIndex: "dev.kiln.pulled-from.index",
} as const;

/** The value of Annotation.referenceType on attestation-manifest entries. */
export const ATTESTATION_MANIFEST = "attestation-manifest";

/** An index entry that holds attestations (BuildKit's annotation), not an image. */
export function isAttestationEntry(d: Descriptor): boolean {
  return d.annotations?.[Annotation.referenceType] === ATTESTATION_MANIFEST;
}
