import type { RuntimeName } from "../exec/find-runtime.js";
import type { ExtraHost, NetworkMode } from "../exec/runtime-spec.js";
import type { SandboxOptions } from "../exec/sandbox.js";
import type { SecretSource } from "../exec/secret-source.js";
import type { SshSource } from "../exec/ssh-agent.js";
import { platformMatches, type Platform } from "../oci/platform.js";
import type { Store } from "../store/store.js";
import type { CacheExportOptions, CacheTarget } from "../cache/cache-layout.js";
import type { ClientOptions } from "../registry/client.js";
import type { RegistryAccess } from "../registry/client.js";
import type { EventSink } from "./events.js";
import type { AttestationOptions } from "../attest/attach.js";
import type { LayerCompression } from "../snapshot/compress.js";

export type Output =
  | { readonly kind: "oci"; readonly dest: string; readonly tar: boolean }
  | { readonly kind: "docker"; readonly dest: string }
  | { readonly kind: "local"; readonly dest: string }
  /** The final filesystem as one tar file (buildx's type=tar). */
  | { readonly kind: "tar"; readonly dest: string }
  /**
   * Push to a registry after the build (buildx's type=registry; `--push`
   * makes one per tag). The name is also tagged in the store. pushByDigest:
   * no tag in the registry, only the digest (merged later by `index create`).
   * referrers: attestation manifests also listed through the OCI 1.1 referrers API.
   */
  | { readonly kind: "registry"; readonly name: string; readonly pushByDigest?: boolean; readonly referrers?: boolean };

/** The outputs that are files (all but registry pushes). */
// (Layer compression for blobs that leave the machine: BuildOptions.compression.)
export type FileOutput = Exclude<Output, { readonly kind: "registry" }>;

/**
 * One `--annotation` (buildx syntax `[TYPE[PLATFORM]:]KEY=VALUE`): on each
 * image manifest (the default), on the image index, or on the index's
 * descriptor of each manifest; `platform` limits it to that platform's image.
 */
export interface BuildAnnotation {
  readonly on: "manifest" | "index" | "manifest-descriptor";
  readonly platform?: Platform;
  readonly key: string;
  readonly value: string;
}

export type BuildContext =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "image"; readonly ref: string }
  | { readonly kind: "oci-layout"; readonly path: string; readonly tag?: string };

export interface BuildOptions {
  readonly store: Store;
  readonly contextDir: string;
  /** Path of the Dockerfile on the host (default: CONTEXT/Dockerfile). */
  readonly dockerfile?: string;
  readonly tags?: readonly string[];
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** RUN network (default: DEFAULT_NETWORK, outbound access as docker build). */
  readonly network?: NetworkMode;
  /** --add-host: extra lines of RUN's /etc/hosts. */
  readonly extraHosts?: readonly ExtraHost[];
  /** --label: set on the image config after the Dockerfile's LABELs (they win over LABEL). */
  readonly labels?: Readonly<Record<string, string>>;
  /** --annotation: on the manifests, the index, or the index's entries. */
  readonly annotations?: readonly BuildAnnotation[];
  readonly runtime?: RuntimeName;
  /** PATH searched for the runtime binary (default: this process's PATH). */
  readonly runtimeSearchPath?: string;
  /** Target platforms (default: this machine's). Several, or attestations, make an image index. */
  readonly platforms?: readonly Platform[];
  /** false: a Docker manifest list instead of an OCI index (buildx's oci-mediatypes=false); needs two or more platforms. */
  readonly ociMediaTypes?: boolean;
  /** Provenance and SBOM attestation manifests in the index (--provenance, --sbom). */
  readonly attestations?: AttestationOptions;
  readonly target?: string;
  readonly outputs?: readonly Output[];
  /**
   * How layers are compressed for what leaves the machine (pushes, OCI and
   * docker archives): default gzip level 6 through node:zlib (the same bytes
   * on every host); zstd through the zstd CLI (--output ...,compression=zstd).
   * The local store never compresses.
   */
  readonly compression?: LayerCompression;
  /** Clamp file times and image timestamps: same inputs, same digests. */
  readonly sourceDateEpoch?: number;
  readonly onEvent?: EventSink;
  /** --build-context NAME=…: what FROM NAME, COPY --from=NAME and RUN --mount=from=NAME read. */
  readonly buildContexts?: Readonly<Record<string, BuildContext>>;
  /** Import exported build caches before the build (--cache-from). */
  readonly cacheFrom?: readonly CacheTarget[];
  /** Export this build's cache records and layers after it (--cache-to). */
  readonly cacheTo?: CacheExportOptions;
  /**
   * Layers that live in a registry (a base pulled for this build, a
   * --cache-from hit): "fetch" (default) brings the image's layers into the
   * store; "on-demand" fetches one only when a step needs the filesystem or
   * an output needs its bytes, and leaves the others where they are (the
   * store records where: store/remote-blobs.ts), as for a build that is
   * pushed next: the push mounts or skips them.
   */
  readonly remoteLayers?: "fetch" | "on-demand";
  /** Pull FROM images even when the store has them (--pull). */
  readonly pull?: boolean;
  /** Registry access (config file: mirrors, CAs, insecure hosts; --tls-ca; timeouts) for FROM pulls, registry caches and pushes. */
  readonly registry?: RegistryAccess;
  /** Steps that may run at once across independent stages (default: CPU count). */
  readonly jobs?: number;
  /** Run every step; results are still recorded for the next build. */
  readonly noCache?: boolean;
  /** Stages (by name) whose steps run even when cached. */
  readonly noCacheFilter?: readonly string[];
  /** Report why each step missed the cache, even on a first build. */
  readonly explainCache?: boolean;
  /** Abort to stop the build cleanly: the running step is stopped and nothing is committed. */
  readonly signal?: AbortSignal;
  /** Secrets RUN --mount=type=secret may mount (`--secret`); never stored anywhere. */
  readonly secrets?: readonly SecretSource[];
  /** ssh agents RUN --mount=type=ssh may use (`--ssh`); the keys stay in the agent. */
  readonly ssh?: readonly SshSource[];
  /** How RUN is confined and limited: seccomp, `--allow security.insecure`, `--ulimit`, `--shm-size`, `--pids-limit`. */
  readonly sandbox?: SandboxOptions;
}

/** What every registry client of a build gets: the access options, and the
 * build's abort signal so Ctrl-C stops a pull or a cache transfer too. */
export function buildRegistryAccess(opts: Pick<BuildOptions, "registry" | "signal">): ClientOptions {
  return { ...opts.registry, ...(opts.signal ? { signal: opts.signal } : {}) };
}

/** The annotations of one kind that apply to `platform` (all of them for the index), or undefined when none. */
export function annotationsFor(all: readonly BuildAnnotation[] | undefined, on: BuildAnnotation["on"], platform: Platform | undefined): Record<string, string> | undefined {
  const picked = (all ?? []).filter((a) => a.on === on && (!a.platform || !platform || platformMatches(a.platform, platform)));
  return picked.length ? Object.fromEntries(picked.map((a) => [a.key, a.value])) : undefined;
}
