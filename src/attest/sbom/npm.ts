// npm lockfiles (package-lock.json, npm-shrinkwrap.json). Version 2 and 3
// list every installed package in `packages`, keyed by its path below the
// project ("node_modules/a/node_modules/@s/b"); version 1 nests them in
// `dependencies`. Either way the path is kept so the scanner can ask
// whether a dev or optional package is really there.

export interface NpmLockEntry {
  name: string;
  version: string;
  license?: string;
  /** Relative to the lockfile's directory, e.g. node_modules/@s/b. */
  path: string;
  /** dev, optional or devOptional: installed only under some `npm ci` flags or platforms. */
  conditional: boolean;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

const NM = "node_modules/";

/** The entries of a lockfile, or undefined when the text is not one (bad JSON, no package map). */
export function parsePackageLock(text: string): NpmLockEntry[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(doc)) return undefined;
  if (isObject(doc.packages)) return fromPackages(doc.packages);
  if (isObject(doc.dependencies)) return fromDependencies(doc.dependencies, "");
  return undefined;
}

function fromPackages(packages: Json): NpmLockEntry[] {
  const out: NpmLockEntry[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    // "" is the project itself; keys without node_modules/ are its workspaces' sources; links point at those.
    const at = key.lastIndexOf(NM);
    if (at < 0 || !isObject(entry) || entry.link === true) continue;
    const name = str(entry.name) ?? key.slice(at + NM.length);
    const version = str(entry.version);
    if (!version || !name) continue;
    const e: NpmLockEntry = { name, version, path: key, conditional: isConditional(entry) };
    const license = str(entry.license);
    if (license) e.license = license;
    out.push(e);
  }
  return out;
}

function fromDependencies(deps: Json, parent: string): NpmLockEntry[] {
  const out: NpmLockEntry[] = [];
  for (const [key, entry] of Object.entries(deps)) {
    if (!isObject(entry)) continue;
    const path = `${parent}${NM}${key}`;
    const resolved = v1Version(key, str(entry.version));
    if (resolved) out.push({ ...resolved, path, conditional: isConditional(entry) });
    if (isObject(entry.dependencies)) out.push(...fromDependencies(entry.dependencies, `${path}/`));
  }
  return out;
}

/**
 * v1 writes an alias as "npm:real@1.2.3" and a git, file or URL dependency
 * as its spec; the latter name no registry version, so they are left out.
 */
function v1Version(key: string, version: string | undefined): { name: string; version: string } | undefined {
  if (!version) return undefined;
  if (version.startsWith("npm:")) {
    const spec = version.slice(4);
    const at = spec.lastIndexOf("@");
    if (at <= 0) return undefined;
    return { name: spec.slice(0, at), version: spec.slice(at + 1) };
  }
  if (/[:/]/.test(version)) return undefined;
  return { name: key, version };
}

function isConditional(entry: Json): boolean {
  return entry.dev === true || entry.optional === true || entry.devOptional === true;
}
