// The SPDX 2.3 document: required fields, only the properties the SPDX 2.3
// JSON schema allows (it sets additionalProperties false everywhere), the
// relationships, and byte-for-byte determinism.
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanRootfs, spdxDocument, type SbomPackage, type SpdxDocument } from "../../../src/attest/sbom/index.js";

const FIXTURES = path.resolve("testdata/sbom");
const INPUT = { name: "registry.example/team/app:1.2", created: "2024-03-01T12:00:00.000Z", namespaceSeed: "sha256:5d1f", creatorTool: "kiln-0.1.0" };

// Property names from the SPDX 2.3 specification (clauses 6, 7 and 11) as
// its JSON schema spells them: anything else makes the document invalid.
const DOCUMENT_KEYS = ["SPDXID", "annotations", "comment", "creationInfo", "dataLicense", "externalDocumentRefs", "hasExtractedLicensingInfos", "name", "revieweds", "spdxVersion", "documentNamespace", "documentDescribes", "packages", "files", "snippets", "relationships"];
const PACKAGE_KEYS = ["SPDXID", "annotations", "attributionTexts", "builtDate", "checksums", "comment", "copyrightText", "description", "downloadLocation", "externalRefs", "filesAnalyzed", "hasFiles", "homepage", "licenseComments", "licenseConcluded", "licenseDeclared", "licenseInfoFromFiles", "name", "originator", "packageFileName", "packageVerificationCode", "primaryPackagePurpose", "releaseDate", "sourceInfo", "summary", "supplier", "validUntilDate", "versionInfo"];

let root: string;
let scanned: SbomPackage[];
let doc: SpdxDocument;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-sbom-spdx-"));
  await cp(path.join(FIXTURES, "ubuntu"), root, { recursive: true });
  await cp(path.join(FIXTURES, "alpine/lib"), path.join(root, "lib"), { recursive: true });
  await cp(path.join(FIXTURES, "npm-v3"), path.join(root, "app"), { recursive: true });
  await cp(path.join(FIXTURES, "python"), path.join(root, "py"), { recursive: true });
  await cp(path.join(FIXTURES, "go"), path.join(root, "go"), { recursive: true });
  scanned = await scanRootfs(root);
  doc = spdxDocument({ ...INPUT, packages: scanned });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const pkg = (name: string, version?: string) => doc.packages.find((p) => p.name === name && (version === undefined || p.versionInfo === version))!;

describe("SPDX 2.3 document", () => {
  it("has the required document fields and no property outside the schema", () => {
    expect(doc).toMatchObject({ spdxVersion: "SPDX-2.3", dataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", name: INPUT.name });
    expect(doc.creationInfo).toEqual({ created: "2024-03-01T12:00:00Z", creators: ["Tool: kiln-0.1.0"] });
    // An absolute https URI with no "#" (the spec reserves it for element references).
    expect(doc.documentNamespace).toMatch(/^https:\/\/kiln\.dev\/spdx\/registry\.example-team-app-1\.2-[0-9a-f]{64}$/);
    for (const k of Object.keys(doc)) expect(DOCUMENT_KEYS).toContain(k);
  });

  it("gives every package the required fields, a unique SPDXID and its purl", () => {
    expect(doc.packages.length).toBe(scanned.length + 1);
    const ids = doc.packages.map((p) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of doc.packages) {
      for (const k of Object.keys(p)) expect(PACKAGE_KEYS).toContain(k);
      expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(p).toMatchObject({ downloadLocation: "NOASSERTION", filesAnalyzed: false, licenseConcluded: "NOASSERTION" });
      expect(typeof p.name).toBe("string");
    }
    for (const s of scanned) {
      const matches = doc.packages.filter((p) => p.externalRefs?.[0]?.referenceLocator === s.purl);
      expect(matches.length, s.purl).toBeGreaterThan(0);
      expect(matches[0]!.externalRefs).toEqual([{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: s.purl }]);
      expect(matches[0]!.versionInfo).toBe(s.version);
    }
    // Multi-arch: libc6 for amd64 and i386 are two packages.
    expect(doc.packages.filter((p) => p.name === "libc6").length).toBe(2);
  });

  it("describes the image, which contains every package (what syft and Trivy do for an image)", () => {
    const root = doc.packages[0]!;
    expect(root).toMatchObject({ name: INPUT.name, primaryPackagePurpose: "CONTAINER" });
    expect(doc.relationships[0]).toEqual({ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: root.SPDXID });
    expect(doc.relationships.slice(1)).toEqual(
      doc.packages.slice(1).map((p) => ({ spdxElementId: root.SPDXID, relationshipType: "CONTAINS", relatedSpdxElement: p.SPDXID })),
    );
    for (const r of doc.relationships) expect(Object.keys(r).sort()).toEqual(["relatedSpdxElement", "relationshipType", "spdxElementId"]);
  });

  it("writes maintainers as SPDX agents: lists and teams as Organization, people as Person", () => {
    expect(pkg("bsdutils").supplier).toBe("Organization: Ubuntu Developers (ubuntu-devel-discuss@lists.ubuntu.com)");
    expect(pkg("sensible-utils").supplier).toBe("Person: Anibal Monsalve Salazar (anibal@debian.org)");
    expect(pkg("musl").supplier).toBe("Person: Timo Teräs (timo.teras@iki.fi)");
    expect(pkg("debug").supplier).toBeUndefined();
  });

  it("declares licenses that are SPDX expressions and NOASSERTION for the rest", () => {
    expect(pkg("libstdc++").licenseDeclared).toBe("GPL-2.0-or-later WITH GCC-exception-3.1");
    expect(pkg("ca-certificates-bundle").licenseDeclared).toBe("MPL-2.0 AND MIT");
    expect(pkg("alpine-keys").licenseDeclared).toBe("NOASSERTION"); // apk says "custom"
    expect(pkg("debug").licenseDeclared).toBe("MIT"); // from the npm lockfile
    expect(pkg("bsdutils").licenseDeclared).toBe("NOASSERTION"); // dpkg copyright files are not parsed
    expect(pkg("bsdutils").sourceInfo).toBe("found in /var/lib/dpkg/status; built from source package util-linux");
  });
});

describe("determinism", () => {
  it("the same root scanned twice gives the same JSON bytes", async () => {
    const again = spdxDocument({ ...INPUT, packages: await scanRootfs(root) });
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  });

  it("the order packages are passed in does not matter; a repeated package appears once", () => {
    const shuffled = [...scanned].reverse();
    shuffled.push({ ...scanned[3]! });
    expect(JSON.stringify(spdxDocument({ ...INPUT, packages: shuffled }))).toBe(JSON.stringify(doc));
  });

  it("the namespace follows the seed and the packages; the time is written without a fraction", () => {
    expect(spdxDocument({ ...INPUT, packages: scanned, namespaceSeed: "sha256:other" }).documentNamespace).not.toBe(doc.documentNamespace);
    expect(spdxDocument({ ...INPUT, packages: scanned.slice(1) }).documentNamespace).not.toBe(doc.documentNamespace);
    expect(spdxDocument({ ...INPUT, packages: scanned, created: "2024-03-01T13:00:00.000Z" }).documentNamespace).toBe(doc.documentNamespace);
    expect(spdxDocument({ ...INPUT, packages: [], created: new Date(0).toISOString() }).creationInfo.created).toBe("1970-01-01T00:00:00Z");
    expect(() => spdxDocument({ ...INPUT, packages: [], created: "yesterday" })).toThrow(/not a date/);
  });
});
