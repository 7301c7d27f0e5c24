// Attestation manifests as BuildKit stores them: one per platform image, an
// index entry with platform unknown/unknown and two annotations naming the
// image manifest it describes. Each layer is one in-toto statement.
//
// The default "artifact" form is an OCI 1.1 artifact (artifactType, the
// empty config, `subject` = the image manifest), so registries with the
// referrers API index it and referrer-aware tools find it. The "legacy"
// form is what BuildKit wrote before: a plain image manifest whose config
// is a placeholder image config, for registries and tools that reject
// artifacts.
import { Annotation, ATTESTATION_MANIFEST, type Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import type { Store } from "../store/store.js";
import type { Statement } from "./in-toto.js";

export type AttestationForm = "artifact" | "legacy";

export const UNKNOWN_PLATFORM = { architecture: "unknown", os: "unknown" } as const;

/** Write the statements and their attestation manifest into the store; returns the index entry for it. */
export async function putAttestationManifest(store: Store, subject: Descriptor, statements: readonly Statement[], form: AttestationForm): Promise<Descriptor> {
  const layers: Descriptor[] = [];
  for (const s of statements) {
    const d = await store.writeJson(MediaType.inToto, s);
    layers.push({ ...d, annotations: { [Annotation.inTotoPredicateType]: s.predicateType } });
  }
  const manifest: ImageManifest =
    form === "artifact"
      ? {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          artifactType: MediaType.attestationManifest,
          config: await store.writeJson(MediaType.ociEmpty, {}),
          layers,
          subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
        }
      : {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: await store.writeJson(MediaType.ociConfig, {
            architecture: "unknown",
            os: "unknown",
            config: {},
            rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
          }),
          layers,
        };
  const d = await store.writeJson(MediaType.ociManifest, manifest);
  return attestationEntry(d, subject.digest);
}

// The entry carries no artifactType (the manifest does): tools on the
// image-spec 1.0 structs, such as Debian's skopeo 1.9, drop unknown
// descriptor fields when they copy an index, so they could not copy it
// with its digest preserved.
export function attestationEntry(manifest: Descriptor, subject: Digest): Descriptor {
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    platform: { ...UNKNOWN_PLATFORM },
    annotations: { [Annotation.referenceDigest]: subject, [Annotation.referenceType]: ATTESTATION_MANIFEST },
  };
}
