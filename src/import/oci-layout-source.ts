// --build-context NAME=oci-layout://PATH[:TAG]: an image read from an OCI
// layout directory. Its blobs are copied into the store (each verified
// against its digest, nothing tagged), so the builder uses it like any
// stored image.
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import { digestHex } from "../oci/digest.js";
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from "../oci/limits.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { parseJsonDocument, validateIndex } from "../oci/validate.js";
import { formatPlatform, platformMatches, type Platform } from "../oci/platform.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { requireDocumentSize } from "../util/read-capped.js";

export async function imageFromOciLayout(store: Store, dir: string, tag: string | undefined, want: Platform): Promise<ResolvedImage> {
  let text: string;
  const indexStat = await stat(path.join(dir, "index.json")).catch(() => undefined);
  if (indexStat) requireDocumentSize(indexStat, MAX_MANIFEST_BYTES, `oci-layout://${dir}/index.json`);
  try {
    text = await readFile(path.join(dir, "index.json"), "utf8");
  } catch {
    throw new KilnError("BAD_BUILD_CONTEXT", `oci-layout://${dir}: no index.json there`, { hint: "point at a directory written by --output type=oci,tar=false or skopeo copy ... oci:DIR" });
  }
  const where = `${path.join(dir, "index.json")} (oci-layout://${dir})`;
  const index = validateIndex(parseJsonDocument(text, where), where);
  const named = tag === undefined ? index.manifests : index.manifests.filter((m) => m.annotations?.[Annotation.refName] === tag);
  if (named.length !== 1) {
    throw new KilnError("BAD_BUILD_CONTEXT", `oci-layout://${dir}${tag ? `:${tag}` : ""}: ${named.length === 0 ? "no image" : "several images"} ${tag ? `named ${tag}` : "in the layout"}`, {
      hint: "name one with oci-layout://PATH:TAG (its org.opencontainers.image.ref.name)",
    });
  }
  const copy = async (d: Descriptor, limit?: number) => {
    if (limit !== undefined) requireDocumentSize(d, limit, `blob ${d.digest} of oci-layout://${dir}`);
    if (!(await store.hasBlob(d.digest))) await store.ingestBlob(createReadStream(path.join(dir, "blobs", "sha256", digestHex(d.digest))), { digest: d.digest, size: d.size });
  };
  let top = named[0]!;
  await copy(top, MAX_MANIFEST_BYTES);
  if (isIndexMediaType(top.mediaType)) {
    const child = (await store.readIndex(top.digest)).manifests.find((m) => m.platform && platformMatches(want, m.platform));
    if (!child) throw new KilnError("PLATFORM_NOT_FOUND", `oci-layout://${dir}: no image for ${formatPlatform(want)}`);
    top = child;
    await copy(top, MAX_MANIFEST_BYTES);
  }
  const manifest = await store.readManifest(top.digest);
  await copy(manifest.config, MAX_CONFIG_BYTES);
  for (const l of manifest.layers) await copy(l);
  const config = await store.readConfig(manifest.config.digest);
  return { manifestDescriptor: top, manifest, config };
}
