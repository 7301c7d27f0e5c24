// Media types kiln reads and writes. Docker v2 types are accepted on read so
// images from docker-era registries and `docker save` tars work.
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  inToto: "application/vnd.in-toto+json",
  /** The OCI 1.1 empty descriptor's blob: `{}`. */
  ociEmpty: "application/vnd.oci.empty.v1+json",
  /** artifactType of a BuildKit-style attestation manifest in OCI-artifact form. */
  attestationManifest: "application/vnd.docker.attestation.manifest.v1+json",
} as const;

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export type Compression = "none" | "gzip" | "zstd";

export function layerCompression(mt: string): Compression {
  if (mt.endsWith("+gzip") || mt.endsWith(".tar.gzip")) return "gzip";
  if (mt.endsWith("+zstd")) return "zstd";
  return "none";
}

export function ociLayerMediaType(c: Compression): string {
  switch (c) {
    case "none":
      return MediaType.ociLayer;
    case "gzip":
      return MediaType.ociLayerGzip;
    case "zstd":
      return MediaType.ociLayerZstd;
  }
}
