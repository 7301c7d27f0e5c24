// Package URLs (purl spec, ECMA-427): type/namespace/name@version?qualifiers.
// Each component is percent-encoded on its own; only letters, digits,
// ". - _ ~" and ":" stay literal (the spec forbids encoding ":"), so a
// Debian "+b1" becomes "%2Bb1" and an npm scope's "@" becomes "%40".
import type { Distro } from "./types.js";

function isLiteral(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2e || byte === 0x2d || byte === 0x5f || byte === 0x7e || byte === 0x3a // . - _ ~ :
  );
}

export function purlEncode(s: string): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    out += isLiteral(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export interface PurlParts {
  type: string;
  /** Segments joined by "/"; each segment is encoded separately. */
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Readonly<Record<string, string | undefined>>;
}

export function formatPurl(p: PurlParts): string {
  let out = `pkg:${p.type}/`;
  if (p.namespace) out += `${p.namespace.split("/").filter(Boolean).map(purlEncode).join("/")}/`;
  out += purlEncode(p.name);
  if (p.version) out += `@${purlEncode(p.version)}`;
  // Canonical form: keys lower-case, sorted, empty values dropped.
  const q = Object.entries(p.qualifiers ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (q.length > 0) out += `?${q.map(([k, v]) => `${k}=${purlEncode(v)}`).join("&")}`;
  return out;
}

/** `debian-12`, or `debian-trixie` when there is no VERSION_ID (testing, sid). */
export function distroQualifier(d: Distro): string | undefined {
  if (!d.id) return undefined;
  const v = d.versionId ?? d.versionCodename;
  return v ? `${d.id}-${v}` : undefined;
}

export function debPurl(name: string, version: string, arch: string | undefined, d: Distro): string {
  return osPackagePurl("deb", "debian", name, version, arch, d);
}

export function apkPurl(name: string, version: string, arch: string | undefined, d: Distro): string {
  return osPackagePurl("apk", "alpine", name, version, arch, d);
}

/** A distribution package: namespaced by the os-release ID (or the family's default), with arch and distro qualifiers. */
function osPackagePurl(type: "deb" | "apk", defaultNamespace: string, name: string, version: string, arch: string | undefined, d: Distro): string {
  return formatPurl({
    type,
    namespace: d.id ?? defaultNamespace,
    name: name.toLowerCase(),
    version,
    qualifiers: { arch, distro: distroQualifier(d) },
  });
}

/** `@scope/name` → namespace `@scope` (encoded `%40scope`); lower-cased as the npm type requires. */
export function npmPurl(fullName: string, version: string): string {
  const lower = fullName.toLowerCase();
  const slash = lower.startsWith("@") ? lower.indexOf("/") : -1;
  if (slash > 0) return formatPurl({ type: "npm", namespace: lower.slice(0, slash), name: lower.slice(slash + 1), version });
  return formatPurl({ type: "npm", name: lower, version });
}

/**
 * The module path split at its last "/". Case is kept although the golang
 * type says lower-case: module paths are case-sensitive to the go command
 * (github.com/Azure/… and github.com/azure/… are different modules) and the
 * Go vulnerability database and the scanners that read it use them as is.
 */
export function golangPurl(modulePath: string, version: string): string {
  const i = modulePath.lastIndexOf("/");
  if (i < 0) return formatPurl({ type: "golang", name: modulePath, version });
  return formatPurl({ type: "golang", namespace: modulePath.slice(0, i), name: modulePath.slice(i + 1), version });
}

/** PEP 503: lower-case, and every run of "-", "_" or "." becomes one "-". */
export function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export function pypiPurl(name: string, version: string): string {
  return formatPurl({ type: "pypi", name: pep503(name), version });
}
