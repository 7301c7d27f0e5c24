// Checks on JSON documents that come from outside (registries, `docker save`
// and OCI layout archives, layout directories): each is checked against the
// shape kiln relies on before any field is used, so `{}`, `null` or `[]`
// where a manifest belongs is a clear error naming the document and the
// field, never a TypeError deep inside. Fields kiln does not read are left
// alone; Docker's `null` for an empty list or map is accepted where Docker
// writes it.
import type { ImageConfig } from "./config.js";
import type { Descriptor } from "./descriptor.js";
import { isDigest } from "./digest.js";
import type { ImageIndex, ImageManifest } from "./manifest.js";

export class InvalidDocumentError extends Error {
  readonly code = "INVALID_DOCUMENT";
  constructor(
    /** What the document is, where from: "manifest.json in the archive". */
    readonly document: string,
    /** The path of the bad field ("" for the whole document) and what is wrong. */
    readonly field: string,
    problem: string,
  ) {
    super(`${document} is not valid: ${field === "" ? "" : `${field}: `}${problem}`);
  }
}

type Check<T> = (v: unknown, at: string) => T;

class Fail {
  constructor(
    readonly at: string,
    readonly problem: string,
  ) {}
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)?.slice(0, 40) ?? ""}`.trim();
}

const fail = (at: string, want: string, v: unknown): never => {
  throw new Fail(at, `expected ${want}, got ${describe(v)}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const str: Check<string> = (v, at) => (typeof v === "string" ? v : fail(at, "a string", v));

const digest: Check<string> = (v, at) => (typeof v === "string" && isDigest(v) ? v : fail(at, "a sha256 digest (sha256:<64 hex digits>)", v));

const size: Check<number> = (v, at) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : fail(at, "a size in bytes", v));

function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) return fail(at, "an array", v);
    v.forEach((x, i) => item(x, `${at}[${i}]`));
    return v as T[];
  };
}

function recordOf<T>(item: Check<T>): Check<Record<string, T>> {
  return (v, at) => {
    if (!isObject(v)) return fail(at, "an object", v);
    for (const [k, x] of Object.entries(v)) item(x, `${at}.${k}`);
    return v as Record<string, T>;
  };
}

const anyObject: Check<object> = (v, at) => (isObject(v) ? v : fail(at, "an object", v));

/** An object whose listed fields pass their checks; `?` fields may be absent, `??` fields absent or null. */
function shape<T>(fields: Record<string, Check<unknown>>): Check<T> {
  return (v, at) => {
    if (!isObject(v)) return fail(at, "an object", v);
    for (const [spec, check] of Object.entries(fields)) {
      const nullable = spec.endsWith("??");
      const optional = nullable || spec.endsWith("?");
      const key = spec.replace(/\?+$/, "");
      const x = v[key];
      const field = at === "" ? key : `${at}.${key}`;
      if (x === undefined || (nullable && x === null)) {
        if (!optional) throw new Fail(field, "missing");
        continue;
      }
      check(x, field);
    }
    return v as T;
  };
}

const platform = shape({ "architecture": str, "os": str, "variant?": str, "os.version?": str, "os.features?": arrayOf(str) });

const descriptor: Check<Descriptor> = shape<Descriptor>({
  "mediaType": str,
  "digest": digest,
  "size": size,
  "urls?": arrayOf(str),
  "annotations?": recordOf(str),
  "platform?": platform,
  "artifactType?": str,
});

const schemaVersion2: Check<2> = (v, at) => (v === 2 ? 2 : fail(at, "2", v));

const manifest = shape<ImageManifest>({
  "schemaVersion": schemaVersion2,
  "mediaType?": str,
  "artifactType?": str,
  "config": descriptor,
  "layers": arrayOf(descriptor),
  "subject?": descriptor,
  "annotations?": recordOf(str),
});

const index = shape<ImageIndex>({
  "schemaVersion": schemaVersion2,
  "mediaType?": str,
  "artifactType?": str,
  "manifests": arrayOf(descriptor),
  "subject?": descriptor,
  "annotations?": recordOf(str),
});

const strings = arrayOf(str);

const containerConfig = shape({
  "User??": str,
  "ExposedPorts??": recordOf(anyObject),
  "Env??": strings,
  "Entrypoint??": strings,
  "Cmd??": strings,
  "Volumes??": recordOf(anyObject),
  "WorkingDir??": str,
  "Labels??": recordOf(str),
  "StopSignal??": str,
  "OnBuild??": strings,
  "Shell??": strings,
  "Healthcheck??": shape({ "Test??": strings }),
});

const config = shape<ImageConfig>({
  "architecture": str,
  "os": str,
  "variant?": str,
  "created?": str,
  "config??": containerConfig,
  "rootfs": shape({ type: str, "diff_ids": arrayOf(digest) }),
  "history??": arrayOf(anyObject),
});

/** One image of a `docker save` manifest.json. */
export interface DockerArchiveEntry {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

const dockerArchiveManifest = arrayOf(shape<DockerArchiveEntry>({ "Config": str, "RepoTags??": strings, "Layers": strings }));

function run<T>(check: Check<T>, v: unknown, document: string): T {
  try {
    return check(v, "");
  } catch (e) {
    if (e instanceof Fail) throw new InvalidDocumentError(document, e.at, e.problem);
    throw e;
  }
}

/** JSON.parse with an error that names the document. */
export function parseJsonDocument(bytes: Uint8Array | string, document: string): unknown {
  const text = typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidDocumentError(document, "", `not JSON (${(e as Error).message})`);
  }
}

export const validateManifest = (v: unknown, document: string): ImageManifest => run(manifest, v, document);
export const validateIndex = (v: unknown, document: string): ImageIndex => run(index, v, document);
export const validateConfig = (v: unknown, document: string): ImageConfig => run(config, v, document);
export const validateDescriptor = (v: unknown, document: string): Descriptor => run(descriptor, v, document);
export const validateDockerArchiveManifest = (v: unknown, document: string): DockerArchiveEntry[] => run(dockerArchiveManifest, v, document);

/** Parse and check in one step. */
export const parseManifest = (bytes: Uint8Array | string, document: string): ImageManifest => validateManifest(parseJsonDocument(bytes, document), document);
export const parseIndex = (bytes: Uint8Array | string, document: string): ImageIndex => validateIndex(parseJsonDocument(bytes, document), document);
export const parseConfig = (bytes: Uint8Array | string, document: string): ImageConfig => validateConfig(parseJsonDocument(bytes, document), document);
