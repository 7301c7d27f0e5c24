// Per-registry settings from kiln's config file (config-file.ts) and the
// command line: mirrors to pull through, plain http, unverified TLS and
// extra CA files, keyed by the registry's name as users write it
// ("docker.io", "127.0.0.1:5000") — BuildKit's buildkitd.toml [registry."H"].
// Pure lookups: every registry client (pull, push, cache, attestations,
// imagetools) asks these with the host it is about to talk to.

export interface RegistryHostConfig {
  /** Hosts (host[:port]) that serve the same content, tried in order before the registry itself, for pulls only. */
  readonly mirrors?: readonly string[];
  /**
   * false: never contact the registry itself, only its mirrors (an air-gapped
   * machine, or a test that must not reach Docker Hub); default true.
   */
  readonly upstream?: boolean;
  /** Speak plain http to this host (no https attempt). */
  readonly http?: boolean;
  /** Do not verify this host's TLS certificate (and allow plain http after https fails). */
  readonly insecure?: boolean;
  /** CA certificate files (PEM) to trust for this host. */
  readonly ca?: readonly string[];
}

export interface RegistryConfig {
  /** Where it was read from, for messages (undefined: no file). */
  readonly file?: string;
  readonly hosts: Readonly<Record<string, RegistryHostConfig>>;
}

export const EMPTY_REGISTRY_CONFIG: RegistryConfig = { hosts: {} };

/** docker.io's API is served by registry-1.docker.io; both names share docker.io's settings. */
const ALIASES: Readonly<Record<string, string>> = { "registry-1.docker.io": "docker.io", "index.docker.io": "docker.io" };

/** The settings for `host` (a registry name or the host its API lives on). */
export function hostConfig(config: RegistryConfig | undefined, host: string): RegistryHostConfig {
  if (!config) return {};
  return config.hosts[host] ?? config.hosts[ALIASES[host] ?? ""] ?? {};
}

/** The mirrors configured for the registry `name` (docker.io, ghcr.io...), in the order to try them. */
export function mirrorsOf(config: RegistryConfig | undefined, name: string): readonly string[] {
  return hostConfig(config, name).mirrors ?? [];
}

/**
 * `extra` mirrors (from --registry-mirror, tried first) added to `config`:
 * a new config, the given one untouched.
 */
export function withMirrors(config: RegistryConfig, extra: readonly { readonly registry: string; readonly mirror: string }[]): RegistryConfig {
  if (extra.length === 0) return config;
  const hosts: Record<string, RegistryHostConfig> = { ...config.hosts };
  for (const [i, { registry }] of extra.entries()) {
    if (extra.findIndex((e) => e.registry === registry) !== i) continue;
    const mine = extra.filter((e) => e.registry === registry).map((e) => e.mirror);
    const had = hosts[registry] ?? {};
    hosts[registry] = { ...had, mirrors: [...new Set([...mine, ...(had.mirrors ?? [])])] };
  }
  return { ...config, hosts };
}
