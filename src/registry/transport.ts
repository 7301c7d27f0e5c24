// Connections to one registry host: an Agent (http.ts) with the right TLS
// trust, and the rule for when plain http is allowed. TLS is verified with
// the system CAs plus --tls-ca and a certs.d-style directory
// (<dir>/<host[:port]>/*.crt, client.cert + client.key for mutual TLS).
// Plain http only for loopback hosts or an explicit --insecure-registry,
// and only after https failed, as docker does; or at once for a host the
// config file marks `http = true`. The config file's per-host `ca` and
// `insecure` apply here too (host-config.ts).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { Agent } from "./http.js";
import { KilnError } from "../util/errors.js";
import { hostConfig, type RegistryConfig } from "./host-config.js";

export interface TransportOptions {
  /** Hosts (host or host:port) that may use plain http or unverified TLS. */
  readonly insecureRegistries?: readonly string[];
  /** Extra CA certificate files (PEM) to trust. */
  readonly tlsCa?: readonly string[];
  /** certs.d-style directories; default /etc/docker/certs.d and /etc/containers/certs.d. */
  readonly certsDirs?: readonly string[];
  readonly timeouts?: Timeouts;
  /** Per-host settings from the config file (mirrors, http, insecure, ca). */
  readonly config?: RegistryConfig;
}

/** How long one request may wait (ms). A registry that accepts the
 * connection and never answers fails after `connectMs` + `headersMs`, not
 * after minutes; a body that stalls fails after `bodyMs` of silence. */
export interface Timeouts {
  /** TCP connect plus TLS handshake (default 10 s). */
  readonly connectMs?: number;
  /** From the request's last byte sent to the response's headers (default 30 s). */
  readonly headersMs?: number;
  /** Longest silence inside a response body (default 60 s). */
  readonly bodyMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<Timeouts> = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 };

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];
const DEFAULT_CERTS_DIRS = ["/etc/docker/certs.d", "/etc/containers/certs.d"];

export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** "127.0.0.1:5000" -> "127.0.0.1", "[::1]:5000" -> "::1". */
function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

export function mayUsePlainHttp(host: string, opts: TransportOptions): boolean {
  return isLoopbackHost(host) || isInsecure(host, opts) || hostConfig(opts.config, host).http === true;
}

/** The config says this host speaks plain http: no https attempt first. */
export function plainHttpOnly(host: string, opts: TransportOptions): boolean {
  return hostConfig(opts.config, host).http === true;
}

function isInsecure(host: string, opts: TransportOptions): boolean {
  return (opts.insecureRegistries ?? []).includes(host) || hostConfig(opts.config, host).insecure === true;
}

export function makeAgent(host: string, opts: TransportOptions): Agent {
  const ca: string[] = [];
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  const own = hostConfig(opts.config, host).ca ?? [];
  for (const f of [...(opts.tlsCa ?? []), ...own]) {
    try {
      ca.push(readFileSync(f, "utf8"));
    } catch (e) {
      const from = own.includes(f) && !(opts.tlsCa ?? []).includes(f) ? `the CA file ${f} (registry."${host}".ca in ${opts.config?.file ?? "the kiln config"})` : `--tls-ca ${f}`;
      throw new KilnError("TLS_CA_UNREADABLE", `cannot read ${from}: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const dir of opts.certsDirs ?? DEFAULT_CERTS_DIRS) {
    const d = path.join(dir, host);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (f.endsWith(".crt")) ca.push(readFileSync(path.join(d, f), "utf8"));
      if (f === "client.cert") cert = readFileSync(path.join(d, f));
      if (f === "client.key") key = readFileSync(path.join(d, f));
    }
  }
  const insecure = isInsecure(host, opts);
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  // Setting `ca` replaces node's bundled roots, so keep those and add the
  // distribution's bundle (the "system CAs") next to the extra ones.
  const trust = ca.length ? [...rootCertificates, ...SYSTEM_BUNDLES.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8")), ...ca] : undefined;
  return new Agent({
    tls: { rejectUnauthorized: !insecure, ...(trust ? { ca: trust } : {}), ...(cert && key ? { cert, key } : {}) },
    connections: 16,
    connectMs: t.connectMs,
    headersMs: t.headersMs,
    bodyMs: t.bodyMs,
  });
}

/** True when an https attempt failed because the server speaks plain http. */
export function looksLikePlainHttpServer(e: unknown): boolean {
  const s = `${(e as { code?: string }).code ?? ""} ${(e as Error).message ?? ""} ${((e as { cause?: Error }).cause as { code?: string })?.code ?? ""}`;
  return /WRONG_VERSION_NUMBER|EPROTO|ECONNRESET|packet length too long|http request|socket hang up/i.test(s);
}
