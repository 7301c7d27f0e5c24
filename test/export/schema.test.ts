// Everything kiln writes as OCI JSON passes the image-spec's own schemas
// (from ../shared/conformance; skipped with a message when it is absent).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportOciLayout } from "../../src/export/index.js";
import type { ImageManifest } from "../../src/oci/manifest.js";
import { Store } from "../../src/store/index.js";
import { conformanceDir, haveSchemas, type OciKind, validateOci } from "../helpers/oci-schema.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";

if (!haveSchemas) console.warn(`[kiln] OCI schema tests skipped: ${conformanceDir} is absent`);
const suite = haveSchemas ? describe : describe.skip;

suite("OCI schemas", () => {
  const ws = useWorkspace({ name: "schema" });
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(ws.root);
  });

  it("the validator agrees with the spec's own test cases", async () => {
    const { cases } = JSON.parse(await readFile(join(conformanceDir, "oci-image-spec", "schema-tests.json"), "utf8")) as {
      cases: { source: string; mediaType: string; expectFail: boolean; document: string; documentConverted?: string; validate?: string }[];
    };
    const kinds: Record<string, OciKind> = {
      "application/vnd.oci.descriptor.v1+json": "descriptor",
      "application/vnd.oci.layout.header.v1+json": "layout",
      "application/vnd.oci.image.manifest.v1+json": "manifest",
      "application/vnd.oci.image.index.v1+json": "index",
      "application/vnd.oci.image.config.v1+json": "config",
    };
    // Rejected only by the Go validator's checks outside the schema (README §7.2).
    const goOnly = new Set(["schema/descriptor_test.go TestDescriptor case 15", "schema/descriptor_test.go TestDescriptor case 29", "schema/config_test.go TestConfig case 9"]);
    const wrong: string[] = [];
    for (const c of cases) {
      if (goOnly.has(c.source)) continue;
      const doc = c.validate === "documentConverted" ? c.documentConverted! : c.document;
      const errs = validateOci(kinds[c.mediaType]!, doc);
      if (errs.length > 0 !== c.expectFail) wrong.push(`${c.source}: ${errs.join("; ") || "passed"}`);
    }
    expect(wrong).toEqual([]);
  });

  it("store index.json, manifest, config and oci-layout are valid", async () => {
    const img = await makeTinyImage(store);
    await store.tag("x:1", img.manifestDescriptor);
    await store.tag("127.0.0.1:5000/a/b:2", img.manifestDescriptor);
    const check = (kind: OciKind, text: string | Buffer) => expect(validateOci(kind, text), kind).toEqual([]);
    check("index", await readFile(join(store.root, "index.json")));
    check("layout", await readFile(join(store.root, "oci-layout")));
    const manifestBytes = await store.readBlob(img.manifestDescriptor.digest);
    check("manifest", manifestBytes);
    check("config", await store.readBlob((JSON.parse(manifestBytes.toString()) as ImageManifest).config.digest));
    expect(validateOci("manifest", { schemaVersion: 2, layers: "nope" }).length).toBeGreaterThan(0);
  });

  it("exported layout files are valid", async () => {
    const img = await makeTinyImage(store, { label: "exported" });
    const image = (await store.resolveImage(img.manifestDescriptor.digest))!;
    const dest = join(ws.work, "out");
    await exportOciLayout({ store, image, dest, tar: false, name: "x:1" });
    expect(validateOci("index", await readFile(join(dest, "index.json")))).toEqual([]);
    expect(validateOci("layout", await readFile(join(dest, "oci-layout")))).toEqual([]);
  });
});
