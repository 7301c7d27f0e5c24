// The Docker v2 form of an image index (buildx's oci-mediatypes=false): a
// manifest list whose manifests use Docker's media types. Same blobs; only
// the manifests are rewritten, so their digests (and the list's) differ
// from the OCI form. Docker manifests cannot carry zstd layers.
import type { Descriptor } from "../oci/descriptor.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { isIndexMediaType, MediaType } from "../oci/media-types.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";

const LAYER: Record<string, string> = {
  [MediaType.ociLayerGzip]: MediaType.dockerLayerGzip,
  [MediaType.dockerLayerGzip]: MediaType.dockerLayerGzip,
};

async function dockerManifest(store: Store, d: Descriptor): Promise<Descriptor> {
  const m = await store.readJson<ImageManifest>(d.digest);
  const layers = m.layers.map((l) => {
    const mediaType = LAYER[l.mediaType];
    if (!mediaType) {
      throw new KilnError("DOCKER_MEDIA_TYPES", `layer ${l.digest} is ${l.mediaType}, which a Docker v2 manifest cannot carry`, { hint: "use gzip layers, or keep OCI media types" });
    }
    return { mediaType, digest: l.digest, size: l.size };
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: m.config.digest, size: m.config.size },
    layers,
  };
  const written = await store.writeJson(MediaType.dockerManifest, manifest);
  return { ...written, mediaType: MediaType.dockerManifest, ...(d.platform ? { platform: d.platform } : {}) };
}

/** Writes the Docker manifest list for an OCI index (or a Docker manifest for one OCI manifest). */
export async function toDockerMediaTypes(store: Store, d: Descriptor): Promise<Descriptor> {
  if (!isIndexMediaType(d.mediaType)) return dockerManifest(store, d);
  const idx = await store.readJson<ImageIndex>(d.digest);
  const manifests: Descriptor[] = [];
  for (const c of idx.manifests) manifests.push(await dockerManifest(store, c));
  const list = { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests };
  const written = await store.writeJson(MediaType.dockerManifestList, list);
  return { ...written, mediaType: MediaType.dockerManifestList };
}
