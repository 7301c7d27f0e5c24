// The SBOM of an image: scan its root filesystem for packages, write them
// as an SPDX 2.3 document. Everything else in this folder is internal.
export type { SbomPackage } from "./types.js";
export { scanRootfs } from "./scan.js";
export { spdxDocument } from "./spdx.js";
export type { SpdxDocument, SpdxPackage, SpdxRelationship, SpdxExternalRef, SpdxInput } from "./spdx.js";
