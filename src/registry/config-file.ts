// kiln's config file: TOML in the shape of BuildKit's buildkitd.toml, of
// which kiln reads the [registry."HOST"] tables:
//
//   [registry."docker.io"]
//   mirrors = ["127.0.0.1:5000"]
//   upstream = false          # pull only from the mirrors (air-gapped)
//   [registry."127.0.0.1:5000"]
//   http = true
//   [registry."reg.example:5000"]
//   ca = ["/etc/kiln/reg-ca.pem"]
//   insecure = false
//
// Found at $KILN_CONFIG, else $XDG_CONFIG_HOME/kiln/config.toml, else
// ~/.config/kiln/config.toml; a missing default file is no error, a missing
// $KILN_CONFIG is. Other top-level tables (a whole buildkitd.toml) are
// ignored; an unknown key inside a registry table is an error, so a typo
// ("mirror =") never silently does nothing.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { KilnError } from "../util/errors.js";
import type { RegistryConfig, RegistryHostConfig } from "./host-config.js";

const KEYS = new Set(["mirrors", "upstream", "http", "insecure", "ca"]);

/** The config file's path, and whether the user named it (then it must exist). */
export function configFilePath(env: NodeJS.ProcessEnv): { readonly file: string; readonly explicit: boolean } {
  if (env.KILN_CONFIG) return { file: path.resolve(env.KILN_CONFIG), explicit: true };
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), ".config");
  return { file: path.join(base, "kiln", "config.toml"), explicit: false };
}

export async function loadRegistryConfig(env: NodeJS.ProcessEnv): Promise<RegistryConfig> {
  const { file, explicit } = configFilePath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!explicit && (code === "ENOENT" || code === "ENOTDIR")) return { hosts: {} };
    throw new KilnError("CONFIG_UNREADABLE", `cannot read the kiln config ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: explicit ? "KILN_CONFIG names a file that must exist" : "fix its permissions or remove it",
    });
  }
  return parseRegistryConfig(text, file);
}

export async function parseRegistryConfig(text: string, file: string): Promise<RegistryConfig> {
  const { parse, TomlError } = await import("smol-toml");
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? `${file}:${e.line}:${e.column}` : file;
    throw new KilnError("CONFIG_INVALID", `${where}: not valid TOML: ${firstLine((e as Error).message)}`, { cause: e, hint: 'e.g. [registry."docker.io"] then mirrors = ["127.0.0.1:5000"]' });
  }
  const registry = doc.registry ?? {};
  if (!isTable(registry)) throw invalid(file, "registry", 'must be a table of hosts: [registry."HOST"]');
  const hosts: Record<string, RegistryHostConfig> = {};
  for (const [host, raw] of Object.entries(registry)) {
    const at = `registry."${host}"`;
    if (!isTable(raw)) throw invalid(file, at, "must be a table");
    if (!/^[A-Za-z0-9.[\]:-]+$/.test(host)) throw invalid(file, at, "is not a registry host[:port]");
    for (const k of Object.keys(raw)) if (!KEYS.has(k)) throw invalid(file, `${at}.${k}`, `is not a setting kiln knows (it reads ${[...KEYS].join(", ")})`);
    const c: { -readonly [K in keyof RegistryHostConfig]: RegistryHostConfig[K] } = {};
    if (raw.mirrors !== undefined) c.mirrors = stringList(raw.mirrors, file, `${at}.mirrors`).map((m) => mirrorHost(m, file, `${at}.mirrors`));
    if (raw.upstream !== undefined) c.upstream = bool(raw.upstream, file, `${at}.upstream`);
    if (raw.http !== undefined) c.http = bool(raw.http, file, `${at}.http`);
    if (raw.insecure !== undefined) c.insecure = bool(raw.insecure, file, `${at}.insecure`);
    if (raw.ca !== undefined) c.ca = stringList(raw.ca, file, `${at}.ca`).map((p) => path.resolve(path.dirname(file), p));
    hosts[host] = c;
  }
  return { file, hosts };
}

/**
 * A mirror as written: host[:port], optionally as a URL
 * (http://127.0.0.1:5000/); the scheme is the host's own `http` setting,
 * not part of the mirror's name.
 */
export function mirrorHost(value: string, file: string, key: string): string {
  const host = value.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (!/^[A-Za-z0-9.[\]:-]+$/.test(host)) throw invalid(file, key, `"${value}" is not a host[:port] (a mirror serves /v2/ at its root)`);
  return host;
}

function invalid(file: string, key: string, why: string): KilnError {
  return new KilnError("CONFIG_INVALID", `${file}: ${key} ${why}`, { hint: "see docs/registry-config.md" });
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function stringList(v: unknown, file: string, key: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) throw invalid(file, key, "must be a list of strings");
  return v as string[];
}

function bool(v: unknown, file: string, key: string): boolean {
  if (typeof v !== "boolean") throw invalid(file, key, "must be true or false");
  return v;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}
