import type { RuntimeName } from "../exec/find-runtime.js";
import type { ExtraHost, NetworkMode } from "../exec/runtime-spec.js";
import type { SandboxOptions } from "../exec/sandbox.js";
import type { SecretSource } from "../exec/secret-source.js";
import type { SshSource } from "../exec/ssh-agent.js";
import { platformMatches, type Platform } from "../oci/platform.js";
import type { Store } from "../store/store.js";
import type { CacheExportOptions, CacheTarget } from "../cache/cache-layout.js";
import type { StatMemo } from "../cache/stat-memo.js";
import type { Digest } from "../oci/digest.js";
import type { ClientOptions } from "../registry/client.js";
import type { Semaphore } from "../util/semaphore.js";
import type { RegistryAccess } from "../registry/client.js";
import type { EventSink } from "./events.js";
import type { InflightSteps } from "./inflight-steps.js";

export type Output =
  | { readonly kind: "oci"; readonly dest: string; readonly tar: boolean }
  | { readonly kind: "docker"; readonly dest: string }
  | { readonly kind: "local"; readonly dest: string }
  /** The final filesystem as one tar file (buildx's type=tar). */
  | { readonly kind: "tar"; readonly dest: string };

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
  readonly platform?: Platform;
  readonly target?: string;
  readonly outputs?: readonly Output[];
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
  /** Internal, set by buildPlatforms for each platform it builds (no CLI flag). */
  readonly multiPlatform?: PlatformShare;
}

/**
 * What the per-platform builds of one `--platform a,b` build share, running
 * at the same time in one process (buildPlatforms makes it; build() uses
 * these instead of making its own).
 */
export interface PlatformShare {
  /** --jobs N bounds the steps running at once across all the platforms, not per platform. */
  readonly jobs: Semaphore;
  /** The same step (cache key) reached by two platforms at once runs once. */
  readonly inflight: InflightSteps;
  /** Loaded once; buildPlatforms saves it once at the end, so no two builds write it. */
  readonly memo: StatMemo;
  /** Progress event ids: both platforms' events go to one sink, so ids are unique across them. */
  readonly nextEventId: () => number;
  /** One at a time: --cache-from imports, which restore cache mounts through fixed temp paths. */
  readonly serial: Semaphore;
  /** --cache-to: this platform's keys, exported once for all platforms by buildPlatforms. */
  readonly exportKeys: (keys: readonly Digest[]) => void;
  /** --no-cache: cache mount directories already emptied by one of the platforms' builds. */
  readonly emptyCacheMounts: Set<string>;
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
