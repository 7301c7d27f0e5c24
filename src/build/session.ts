// One build's session: what every platform of a `build(options)` shares,
// made once. The Dockerfile is read, parsed and linted once; one lease
// protects what the build reuses from a concurrent prune; one --jobs
// semaphore bounds the steps of all platforms together; one in-flight map
// makes a step two platforms reach at once (`FROM --platform=$BUILDPLATFORM`)
// run once; one stop signal makes the first failure stop every platform.
import { availableParallelism } from "node:os";
import path from "node:path";
import { LazyLayers } from "../cache/lazy-layers.js";
import { StepRecords } from "../cache/records.js";
import { StatMemo } from "../cache/stat-memo.js";
import { loadDockerignore, type IgnoreMatcher } from "../context/dockerignore.js";
import { readDockerfile } from "../context/read-dockerfile.js";
import { lintForBuild } from "../dockerfile/checks.js";
import { parseDockerfile } from "../dockerfile/parse.js";
import type { Dockerfile } from "../dockerfile/types.js";
import { sha256Digest, type Digest } from "../oci/digest.js";
import { materializeLayer, prefetchLayer } from "../cache/materialize.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { chainIdOf, SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { Semaphore } from "../util/semaphore.js";
import type { BuildTrace } from "../attest/build-trace.js";
import { ignoreEvents, type EventSink } from "./events.js";
import { InflightSteps } from "./inflight-steps.js";
import { OnDemandLayers } from "../cache/on-demand-layers.js";
import { buildRegistryAccess, type BuildOptions } from "./options.js";

export interface BuildSession {
  readonly store: Store;
  readonly emit: EventSink;
  readonly df: Dockerfile;
  readonly contextDir: string;
  /** The Dockerfile on the host. */
  readonly dockerfilePath: string;
  /** For provenance: when the build started, the Dockerfile's name in the context and its digest. */
  readonly startedOn: Date;
  readonly dockerfile: BuildTrace["dockerfile"];
  readonly ignore: IgnoreMatcher;
  readonly snapshots: SnapshotIndex;
  readonly records: StepRecords;
  /** Loaded once, saved once at the end: no two platforms write it. */
  readonly memo: StatMemo;
  /** What the build reuses is claimed in it under the GC lock; what it creates is newer than it. */
  readonly lease: Lease;
  /** --jobs N bounds the steps running at once across all the platforms. */
  readonly jobs: Semaphore;
  /** The same step (cache key) reached by two platforms at once runs once. */
  readonly inflight: InflightSteps;
  /** --no-cache: cache mount directories already emptied by a step of this build. */
  readonly emptyCacheMounts: Set<string>;
  /** Layers --cache-from offers (and on-demand bases), fetched when a hit needs them. */
  readonly cacheLayers: LazyLayers;
  /** remoteLayers "on-demand": layers left in a registry until a step or an output needs them. */
  readonly onDemand?: OnDemandLayers;
  /** Aborted by the caller's signal or by the first failure: every platform's running steps stop. */
  readonly stop: AbortController;
  /** A step failed: the first failure (not one the stop caused) is the one reported, and it stops the rest. */
  fail(err: unknown): void;
  /** The failure fail() kept, if any. */
  readonly firstError: { readonly err: unknown } | undefined;
  /** Progress event ids, unique across the platforms (their events share one sink). */
  readonly nextEventId: () => number;
  /** Step names start with the platform (`[linux/arm64 base 2/3]`), as buildx names them in a multi-platform build. */
  readonly labelPlatforms: boolean;
  /**
   * Under the GC lock: true if the chain's snapshot exists (unpacking a
   * --cache-from layer on first use), and keeps it from GC for this build.
   */
  readonly claim: (parent: Digest | null, diffId: Digest | null) => Promise<boolean>;
  /** Runs `fn` under the store's GC lock. */
  readonly gcLocked: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Releases the lease and stops listening to the caller's signal. */
  close(): Promise<void>;
}

export async function openSession(opts: BuildOptions, labelPlatforms: boolean): Promise<BuildSession> {
  const startedOn = new Date();
  const emit = opts.onEvent ?? ignoreEvents;
  const contextDir = path.resolve(opts.contextDir);
  const { path: dockerfilePath, displayName, text } = await readDockerfile(contextDir, opts.dockerfile);
  const df = parseDockerfile(text, displayName);
  // BuildKit's checks run on every build: warnings go to the progress
  // output, and `# check=error=true` makes them fatal before any step runs.
  const lint = lintForBuild(df, text);
  for (const w of lint.warnings) emit({ kind: "warning", message: `${w.rule}: ${w.message}`, location: w.location });
  if (lint.error) throw lint.error;
  const store = opts.store;
  const dockerfileRel = path.relative(contextDir, dockerfilePath);
  const ignore = await loadDockerignore(contextDir, dockerfileRel.startsWith("..") ? undefined : dockerfileRel);
  const memo = await StatMemo.load(path.join(store.paths.cache, "stat-memo.json"));
  const lease = await Lease.open(store.paths);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const cacheLayers = new LazyLayers((message) => emit({ kind: "warning", message }));
  const gcLocked = <T>(fn: () => Promise<T>) => withStoreLock(store.root, fn, { name: GC_LOCK });
  const onDemand =
    opts.remoteLayers === "on-demand"
      ? new OnDemandLayers({
          store,
          snapshots,
          lazy: cacheLayers,
          gcLocked,
          lease,
          fetchRemote: async (blob) => (await import("../registry/remote-blob.js")).fetchRemoteBlob(store, blob, buildRegistryAccess(opts)),
        })
      : undefined;
  const claim = async (parent: Digest | null, diffId: Digest | null): Promise<boolean> => {
    if (onDemand && diffId !== null) return onDemand.claim(chainIdOf(parent, diffId), diffId);
    // A --cache-from layer downloads outside the GC lock: that can take long.
    if (diffId !== null) await prefetchLayer(store, snapshots, parent, diffId, cacheLayers);
    return gcLocked(async () => {
      if (diffId === null) return true;
      const chainId = chainIdOf(parent, diffId);
      if (!(await snapshots.get(chainId)) && !(await materializeLayer(store, snapshots, parent, diffId, cacheLayers))) return false;
      await lease.add([chainId]);
      return true;
    });
  };
  let eventId = 0;
  let firstError: { err: unknown } | undefined;
  return {
    store,
    emit,
    df,
    contextDir,
    dockerfilePath,
    startedOn,
    dockerfile: { path: dockerfileName(contextDir, dockerfilePath), digest: sha256Digest(text) },
    ignore,
    snapshots,
    records: new StepRecords(store.paths.cache, store.paths.tmp),
    memo,
    lease,
    jobs: new Semaphore(opts.jobs ?? availableParallelism()),
    inflight: new InflightSteps(),
    emptyCacheMounts: new Set(),
    cacheLayers,
    ...(onDemand ? { onDemand } : {}),
    stop,
    fail: (err) => {
      if (!stop.signal.aborted) firstError = { err };
      stop.abort();
    },
    get firstError() {
      return firstError;
    },
    nextEventId: () => ++eventId,
    labelPlatforms,
    claim,
    gcLocked,
    close: async () => {
      opts.signal?.removeEventListener("abort", onOuterAbort);
      await lease.release();
    },
  };
}

/** The Dockerfile's name as provenance records it: relative to the context when inside it (no host path). */
function dockerfileName(contextDir: string, file: string): string {
  const rel = path.relative(contextDir, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(file) : rel;
}
