// The `docker buildx build` flags that are one value each and need no module
// of their own: --network, --add-host, --label, --annotation, --cache-from's
// bare form. Each returns the typed value BuildOptions takes.
import { isIP } from "node:net";
import type { BuildAnnotation } from "../build/options.js";
import { DEFAULT_NETWORK, type ExtraHost, type NetworkMode } from "../exec/runtime-spec.js";
import { parsePlatform, uniquePlatforms, type Platform } from "../oci/platform.js";
import { KilnError } from "../util/errors.js";

/** `default` (outbound access, as docker build), `host`, `none`, or `slirp4netns` (own netns with outbound access, host loopback unreachable). */
export function parseNetwork(value: string | undefined): NetworkMode {
  const v = value ?? "default";
  if (v === "default") return DEFAULT_NETWORK;
  if (v === "none" || v === "host" || v === "slirp4netns") return v;
  throw new KilnError("USAGE", `--network must be default, host, none or slirp4netns, not "${v}"`, { hint: "default gives RUN outbound network access, as docker build" });
}

/** `--add-host NAME:IP` (also NAME=IP; IPv6 as docker writes it, NAME:::1 or NAME:[::1]). */
export function parseAddHost(spec: string): ExtraHost {
  const sep = /^[^:=]+[:=]/.exec(spec);
  const name = sep ? sep[0].slice(0, -1) : "";
  const ip = sep ? spec.slice(sep[0].length).replace(/^\[(.*)\]$/, "$1") : "";
  if (!name || !/^[A-Za-z0-9._-]+$/.test(name)) throw new KilnError("USAGE", `invalid --add-host "${spec}": expected NAME:IP`, { hint: "e.g. --add-host db.local:10.0.0.5" });
  if (ip === "host-gateway") throw new KilnError("USAGE", `--add-host ${spec}: host-gateway is not supported (RUN shares the host's network by default: use 127.0.0.1)`);
  if (isIP(ip) === 0) throw new KilnError("USAGE", `invalid --add-host "${spec}": "${ip}" is not an IP address`);
  return { name, ip };
}

/** `--label KEY=VALUE` (a bare KEY is an empty label, as docker). */
export function parseLabels(specs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const s of specs) {
    const eq = s.indexOf("=");
    const key = eq < 0 ? s : s.slice(0, eq);
    if (!key) throw new KilnError("USAGE", `invalid --label "${s}": expected KEY=VALUE`);
    labels[key] = eq < 0 ? "" : s.slice(eq + 1);
  }
  return labels;
}

const ANNOTATION_TYPES = new Set(["manifest", "index", "manifest-descriptor"]);

/** buildx's `--annotation [TYPE[,TYPE…][PLATFORM]:]KEY=VALUE`; no type means the manifest. */
export function parseAnnotation(spec: string): BuildAnnotation[] {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new KilnError("USAGE", `invalid --annotation "${spec}": expected [TYPE:]KEY=VALUE`, { hint: "e.g. --annotation org.opencontainers.image.source=https://… or --annotation index:KEY=VALUE" });
  const head = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  // The key itself may hold ":" (a URL-like key is rare but legal): a type prefix is one of the known words.
  const m = /^([a-z-]+(?:,[a-z-]+)*)(?:\[([^\]]+)\])?:(.+)$/.exec(head);
  if (!m || !m[1]!.split(",").every((t) => ANNOTATION_TYPES.has(t) || t === "index-descriptor")) return [{ on: "manifest", key: head, value }];
  const platform = m[2] !== undefined ? parsePlatform(m[2]) : undefined;
  return m[1]!.split(",").map((t) => {
    if (t === "index-descriptor") throw new KilnError("USAGE", `--annotation ${spec}: index-descriptor annotations (on an OCI layout's index.json) are not supported`, { hint: "use index: or manifest-descriptor:" });
    if (t === "index" && platform) throw new KilnError("USAGE", `--annotation ${spec}: an index annotation cannot name a platform`);
    return { on: t as BuildAnnotation["on"], ...(platform ? { platform } : {}), key: m[3]!, value };
  });
}

/** `--platform linux/amd64,linux/arm64` (also repeated flags) -> platforms, deduplicated. */
export function parsePlatformList(values: readonly string[]): Platform[] {
  return uniquePlatforms(values.flatMap((v) => v.split(",")).map((x) => x.trim()).filter(Boolean).map(parsePlatform));
}
