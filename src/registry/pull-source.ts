// Where a pull reads from: the registry's configured mirrors in order, then
// the registry itself (docker.io's API host for Docker Hub names), as
// BuildKit and containerd do. The first host that answers the manifest
// serves the whole pull; when none does, the error lists every host tried
// and what each said.
import type { Reference } from "../oci/reference.js";
import { formatReference } from "../oci/reference.js";
import { KilnError } from "../util/errors.js";
import { type ClientOptions, RegistryClient } from "./client.js";
import { hostConfig, mirrorsOf } from "./host-config.js";
import { apiHost } from "./hosts.js";
import { Repository } from "./repository.js";

export interface PullSource<T> {
  readonly client: RegistryClient;
  readonly repo: Repository;
  /** What `first` returned from this host. */
  readonly first: T;
  /** The host that answered (a mirror's, or the registry's own). */
  readonly host: string;
  readonly mirror: boolean;
}

/** The hosts to try for `ref`, mirrors first. */
export function pullHosts(ref: Reference, opts: ClientOptions): { host: string; mirror: boolean }[] {
  const upstream = apiHost(ref.registry);
  const mirrors = mirrorsOf(opts.config, ref.registry).filter((m) => m !== upstream && m !== ref.registry);
  const own = hostConfig(opts.config, ref.registry).upstream === false ? [] : [{ host: upstream, mirror: false }];
  return [...mirrors.map((host) => ({ host, mirror: true })), ...own];
}

/**
 * Runs `first` (a manifest GET) against each host in turn and returns the
 * first that succeeds, with its client (the caller closes it). Without
 * mirrors the registry's own error passes through unchanged.
 */
export async function openPullSource<T>(ref: Reference, opts: ClientOptions, first: (repo: Repository) => Promise<T>): Promise<PullSource<T>> {
  const hosts = pullHosts(ref, opts);
  if (hosts.length === 0) {
    const where = opts.config?.file ?? "the kiln config";
    throw new KilnError("PULL_FAILED", `cannot pull ${formatReference(ref)}: ${where} sets upstream = false for ${ref.registry} and names no mirror for it`, {
      hint: `add mirrors = ["HOST"] to [registry."${ref.registry}"] or pass --registry-mirror ${ref.registry}=HOST (docs/registry-config.md)`,
    });
  }
  const tried: { host: string; mirror: boolean; error: unknown }[] = [];
  for (const { host, mirror } of hosts) {
    const client = new RegistryClient(host, opts);
    const repo = new Repository(client, ref.repository, "pull");
    try {
      return { client, repo, first: await first(repo), host, mirror };
    } catch (e) {
      await client.close().catch(() => {});
      if (opts.signal?.aborted) throw e;
      if (hosts.length === 1 && !mirror) throw ref.registry === "docker.io" ? withHubHint(e) : e;
      tried.push({ host, mirror, error: e });
    }
  }
  const lines = tried.map((t) => `${t.mirror ? "mirror " : ""}${t.host}: ${(t.error as Error).message}`);
  const codes = new Set(tried.map((t) => (t.error as { code?: string }).code));
  const notFound = [...codes].every((c) => c === "REGISTRY_NOT_FOUND" || c === "REGISTRY_MANIFEST_UNKNOWN" || c === "REGISTRY_NAME_UNKNOWN");
  const where = opts.config?.file ? `${opts.config.file} or --registry-mirror` : "--registry-mirror or the kiln config file";
  throw new KilnError(notFound ? "IMAGE_NOT_FOUND" : "PULL_FAILED", `cannot pull ${formatReference(ref)}: tried ${lines.join("; then ")}${hosts.some((h) => !h.mirror) ? "" : ` (not ${ref.registry} itself: upstream = false)`}`, {
    cause: tried.at(-1)?.error,
    hint: `check the image name and tag, and that the mirrors hold it and are running (the mirrors of ${ref.registry} come from ${where}; see docs/registry-config.md)`,
  });
}

/** Docker Hub out of reach and no mirror set: say how to set one. */
function withHubHint(e: unknown): unknown {
  if (!(e instanceof KilnError) || e.code !== "REGISTRY_UNREACHABLE") return e;
  return new KilnError(e.code, e.message, {
    cause: e,
    hint: "Docker Hub names (busybox, node:20) are pulled from registry-1.docker.io; without access to it, set a mirror: --registry-mirror docker.io=HOST or [registry.\"docker.io\"] mirrors = [\"HOST\"] in the kiln config (docs/registry-config.md)",
  });
}
