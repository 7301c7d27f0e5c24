// Reading attestations back from an image index, wherever its blobs are (the
// store or a registry): which platform images have which statements.
import { Annotation, isAttestationEntry, type Descriptor } from "../oci/descriptor.js";
import { sha256Digest, type Digest } from "../oci/digest.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { KilnError } from "../util/errors.js";
import type { Statement } from "./in-toto.js";

/** Where the index's children live: the store, or a registry repository. */
export interface ContentSource {
  manifest(digest: Digest): Promise<Buffer>;
  blob(digest: Digest): Promise<Buffer>;
}

export interface AttestationRecord {
  /** The platform of the image the attestations describe. */
  readonly platform?: Platform;
  readonly subject: Digest;
  readonly manifest: Descriptor;
  readonly form: "artifact" | "legacy";
  readonly statements: readonly { readonly predicateType: string; readonly descriptor: Descriptor }[];
}

export async function listAttestations(source: ContentSource, index: ImageIndex): Promise<AttestationRecord[]> {
  const out: AttestationRecord[] = [];
  for (const entry of index.manifests.filter(isAttestationEntry)) {
    const subject = entry.annotations![Annotation.referenceDigest] as Digest;
    const image = index.manifests.find((d) => d.digest === subject && !isAttestationEntry(d));
    const m = JSON.parse((await verified(source.manifest(entry.digest), entry.digest)).toString("utf8")) as ImageManifest;
    out.push({
      ...(image?.platform ? { platform: image.platform } : {}),
      subject,
      manifest: entry,
      form: m.artifactType === MediaType.attestationManifest ? "artifact" : "legacy",
      statements: m.layers
        .filter((l) => l.mediaType === MediaType.inToto)
        .map((l) => ({ predicateType: l.annotations?.[Annotation.inTotoPredicateType] ?? "", descriptor: l })),
    });
  }
  return out;
}

export async function readStatement(source: ContentSource, d: Descriptor): Promise<Statement> {
  return JSON.parse((await verified(source.blob(d.digest), d.digest)).toString("utf8")) as Statement;
}

async function verified(p: Promise<Buffer>, want: Digest): Promise<Buffer> {
  const bytes = await p;
  if (sha256Digest(bytes) !== want) throw new KilnError("DIGEST_MISMATCH", `content of ${want} does not match its digest`, { hint: "the store or registry holds corrupt data; pull or build the image again" });
  return bytes;
}
