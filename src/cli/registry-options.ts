// The registry settings every command that talks to a registry uses: the
// kiln config file (mirrors, http, insecure, CA files per host) plus the
// command line (--registry-mirror, global or per command; --insecure-registry,
// --tls-ca, --certs-dir), KILN_INSECURE_REGISTRIES and the timeouts
// (KILN_REGISTRY_TIMEOUT...). One function, so a
// push, a pull, a build's base pulls and caches, attest --remote and
// imagetools all see the same hosts the same way.
import { loadRegistryConfig, mirrorHost } from "../registry/config-file.js";
import { withMirrors } from "../registry/host-config.js";
import type { RegistryAccess } from "../registry/client.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { registryTimeouts } from "./registry-timeouts.js";

/** parseArgs options every registry command takes. */
export const TRANSPORT = {
  "insecure-registry": { type: "string", multiple: true },
  "tls-ca": { type: "string", multiple: true },
  "certs-dir": { type: "string", multiple: true },
  "registry-mirror": { type: "string", multiple: true },
} as const;

export interface TransportValues {
  readonly "insecure-registry"?: string[];
  readonly "tls-ca"?: string[];
  readonly "certs-dir"?: string[];
  readonly "registry-mirror"?: string[];
}

export async function registryAccess(values: TransportValues, io: Io): Promise<RegistryAccess & { readonly signal?: AbortSignal }> {
  const mirrors = [...(io.registryMirrors ?? []), ...(values["registry-mirror"] ?? [])].map(parseMirrorFlag);
  const config = withMirrors(await loadRegistryConfig(io.env), mirrors);
  const insecure = [...(values["insecure-registry"] ?? []), ...(io.env.KILN_INSECURE_REGISTRIES ?? "").split(",").filter(Boolean)];
  return {
    env: io.env,
    config,
    insecureRegistries: insecure,
    ...(values["tls-ca"] ? { tlsCa: values["tls-ca"] } : {}),
    ...(values["certs-dir"] ? { certsDirs: values["certs-dir"] } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    ...registryTimeouts(io.env),
  };
}

/**
 * --registry-mirror REGISTRY=MIRROR (docker.io=127.0.0.1:5000), or MIRROR
 * alone for docker.io, as dockerd's --registry-mirror takes it.
 */
export function parseMirrorFlag(value: string): { registry: string; mirror: string } {
  const eq = value.indexOf("=");
  const registry = eq >= 0 ? value.slice(0, eq).trim() : "docker.io";
  const mirror = eq >= 0 ? value.slice(eq + 1).trim() : value.trim();
  if (!registry || !mirror) throw new KilnError("USAGE", `--registry-mirror ${value}: expected REGISTRY=MIRROR`, { hint: "e.g. --registry-mirror docker.io=127.0.0.1:5000" });
  try {
    return { registry: registry === "index.docker.io" ? "docker.io" : registry, mirror: mirrorHost(mirror, "--registry-mirror", value) };
  } catch (e) {
    throw new KilnError("USAGE", `--registry-mirror ${value}: "${mirror}" is not a host[:port]`, { cause: e, hint: "e.g. --registry-mirror docker.io=127.0.0.1:5000" });
  }
}
