// Sinks: an image in the store written out as an OCI layout (dir or tar) or
// a `docker load` archive. The local-store and registry sinks live elsewhere.
export type { ExportImage, ExportResult, GetLayerBlob } from "./types.js";
export { exportOciIndexLayout, exportOciLayout, ociIndexLayoutEntries, ociLayoutEntries, type OciIndexLayoutOptions, type OciLayoutOptions } from "./oci-layout.js";
export { closureOf, indexEntry, manifestPlatform, mergeIndexEntries, putIndex, taggedDescriptor, tagMerged } from "../store/image-index.js";
export { exportDockerArchive, dockerArchiveEntries, type DockerArchiveOptions } from "./docker-archive.js";
export { writeDirectory, writeTar, writeTarFile, type TarOptions, type TreeEntry } from "./file-tree.js";
export { blobEntryPath, imageBlobEntries, storeLayerBlob } from "./image-blobs.js";
