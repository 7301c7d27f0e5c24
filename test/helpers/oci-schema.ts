// Validate OCI documents against the image-spec JSON schemas kept in
// ../shared/conformance (draft-04). Ajv 8 speaks draft-07, which accepts
// these schemas once their draft-04 `id`s and `$schema` are stripped; each
// file is then registered under the URIs the spec's Go validator uses so the
// relative $refs resolve (see conformance/README.md §7.1).
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";

export const conformanceDir = resolve(fileURLToPath(import.meta.url), "../../../../shared/conformance");
export const schemaDir = join(conformanceDir, "oci-image-spec", "schema");
export const haveSchemas = existsSync(schemaDir);

export type OciKind = "index" | "manifest" | "config" | "layout" | "descriptor";

const ALIASES: Record<string, string[]> = {
  "config-schema.json": ["https://opencontainers.org/schema/image/config"],
  "content-descriptor.json": ["https://opencontainers.org/schema/descriptor", "https://opencontainers.org/schema/image/content-descriptor.json"],
  "defs-descriptor.json": [
    "https://opencontainers.org/schema/image/descriptor/mediaType",
    "https://opencontainers.org/schema/defs-descriptor.json",
    "https://opencontainers.org/schema/image/defs-descriptor.json",
  ],
  "defs.json": ["https://opencontainers.org/schema/defs.json", "https://opencontainers.org/schema/image/defs.json", "https://opencontainers.org/schema/image/descriptor/defs.json"],
  "image-index-schema.json": ["https://opencontainers.org/schema/image/index"],
  "image-layout-schema.json": ["https://opencontainers.org/schema/image/layout"],
  "image-manifest-schema.json": ["https://opencontainers.org/schema/image/manifest"],
};

const IDS: Record<OciKind, string> = {
  index: "https://opencontainers.org/schema/image/index",
  manifest: "https://opencontainers.org/schema/image/manifest",
  config: "https://opencontainers.org/schema/image/config",
  layout: "https://opencontainers.org/schema/image/layout",
  descriptor: "https://opencontainers.org/schema/descriptor",
};

function stripIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripIds);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if ((k === "id" && typeof x === "string") || k === "$schema") continue;
      out[k] = stripIds(x);
    }
    return out;
  }
  return v;
}

let ajv: Ajv | undefined;
function getAjv(): Ajv {
  if (ajv) return ajv;
  const a = new Ajv({ strict: false, allErrors: true });
  // ajv-formats is CJS; its default export arrives wrapped under ESM.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
  addFormats(a);
  for (const [file, aliases] of Object.entries(ALIASES)) {
    const schema = stripIds(JSON.parse(readFileSync(join(schemaDir, file), "utf8"))) as object;
    for (const alias of aliases) a.addSchema(schema, alias);
  }
  ajv = a;
  return a;
}

/** Errors from validating `json` (a parsed value or its text) as `kind`; [] when valid. */
export function validateOci(kind: OciKind, json: unknown): string[] {
  let doc = json;
  if (typeof json === "string" || Buffer.isBuffer(json)) {
    try {
      doc = JSON.parse(json.toString());
    } catch (e) {
      return [`invalid JSON: ${(e as Error).message}`];
    }
  }
  const validate = getAjv().getSchema(IDS[kind]);
  if (!validate) return [`no schema for ${kind}`];
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "invalid"}`);
}
