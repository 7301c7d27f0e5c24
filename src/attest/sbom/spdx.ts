// SPDX 2.3 JSON for the packages of one image. Pure: the same input gives
// the same document, so a reproducible build gives a reproducible SBOM.
import { createHash } from "node:crypto";
import { identity, sortedUnique } from "./order.js";
import { idString, licenseExpression, spdxAgent } from "./spdx-fields.js";
import type { SbomPackage } from "./types.js";

export interface SpdxExternalRef {
  referenceCategory: "PACKAGE-MANAGER";
  referenceType: "purl";
  referenceLocator: string;
}

export interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  supplier?: string;
  downloadLocation: "NOASSERTION";
  filesAnalyzed: false;
  sourceInfo?: string;
  licenseConcluded: "NOASSERTION";
  licenseDeclared: string;
  copyrightText: "NOASSERTION";
  externalRefs?: SpdxExternalRef[];
  primaryPackagePurpose?: "CONTAINER";
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: "DESCRIBES" | "CONTAINS";
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: "SPDX-2.3";
  dataLicense: "CC0-1.0";
  SPDXID: "SPDXRef-DOCUMENT";
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
}

export interface SpdxInput {
  /** e.g. the image ref or "sbom" */
  name: string;
  packages: readonly SbomPackage[];
  /** ISO time, caller passes SOURCE_DATE_EPOCH or now */
  created: string;
  /** e.g. image config digest; documentNamespace is derived from it, no randomness */
  namespaceSeed: string;
  /** e.g. "kiln-0.1.0" */
  creatorTool: string;
}

const ROOT_ID = "SPDXRef-DocumentRoot-Image";

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** SPDX wants YYYY-MM-DDThh:mm:ssZ: UTC, no fraction. */
function spdxTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw new RangeError(`SBOM creation time is not a date: ${JSON.stringify(iso)}`);
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Stable across runs and machines: a readable prefix plus a hash of what identifies the package. */
export function packageSpdxId(p: SbomPackage): string {
  return `SPDXRef-Package-${p.type}-${idString(p.name)}-${sha256(JSON.stringify(identity(p))).slice(0, 16)}`;
}

function spdxPackage(p: SbomPackage): SpdxPackage {
  const supplier = p.supplier === undefined ? undefined : spdxAgent(p.supplier);
  const source = p.sourcePackage && p.sourcePackage !== p.name ? `; built from source package ${p.sourcePackage}` : "";
  return {
    name: p.name,
    SPDXID: packageSpdxId(p),
    // No version known (a Go main module built from a working tree): SPDX leaves the field out rather than have it empty.
    ...(p.version ? { versionInfo: p.version } : {}),
    ...(supplier ? { supplier } : {}),
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    sourceInfo: `found in ${p.foundIn}${source}`,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: licenseExpression(p.license),
    copyrightText: "NOASSERTION",
    externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl }],
  };
}

export function spdxDocument(input: SpdxInput): SpdxDocument {
  const pkgs = sortedUnique(input.packages);
  const created = spdxTime(input.created);
  const digest = sha256(JSON.stringify([input.namespaceSeed, input.name, pkgs.map((p) => [...identity(p), p.purl])]));
  // Like syft and Trivy for an image: the document describes one package,
  // the image, which contains everything found in it. Consumers that look
  // for "the" subject of an SBOM (DESCRIBES) find the image, not 96 peers.
  const root: SpdxPackage = {
    name: input.name,
    SPDXID: ROOT_ID,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    primaryPackagePurpose: "CONTAINER",
  };
  const packages = pkgs.map(spdxPackage);
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: input.name,
    documentNamespace: `https://kiln.dev/spdx/${idString(input.name)}-${digest}`,
    creationInfo: { created, creators: [`Tool: ${input.creatorTool}`] },
    packages: [root, ...packages],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: ROOT_ID },
      ...packages.map((p): SpdxRelationship => ({ spdxElementId: ROOT_ID, relationshipType: "CONTAINS", relatedSpdxElement: p.SPDXID })),
    ],
  };
}
