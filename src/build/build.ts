// build(options): Dockerfile + context -> an image in the store (and any
// outputs). Runs only the stages the target needs, each as soon as the
// stages it reads from are done, so independent stages run at the same
// time; the first failure stops the others. Progress goes out as events.
import { availableParallelism } from "node:os";
import path from "node:path";
import { StepRecords } from "../cache/records.js";
import { StatMemo } from "../cache/stat-memo.js";
import { loadDockerignore } from "../context/dockerignore.js";
import { readDockerfile } from "../context/read-dockerfile.js";
import { expandWordAt } from "../dockerfile/expand.js";
import { lintForBuild } from "../dockerfile/checks.js";
import { parseDockerfile } from "../dockerfile/parse.js";
import { suggest } from "../dockerfile/suggest.js";
import type { Dockerfile, Location, Stage } from "../dockerfile/types.js";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, type Platform } from "../oci/platform.js";
import { normalizeReference } from "../oci/reference.js";
import { neededStages, stageRef } from "../plan/stage-graph.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { chainIdOf, SnapshotIndex } from "../store/snapshot-index.js";
import { exportCache } from "../cache/export-cache.js";
import { importCache } from "../cache/import-cache.js";
import { LazyLayers } from "../cache/lazy-layers.js";
import { materializeLayer, prefetchLayer } from "../cache/materialize.js";
import { sha256Digest, type Digest } from "../oci/digest.js";
import type { BuildTrace, ResolvedBase, StepTrace } from "../attest/build-trace.js";
import type { Store } from "../store/store.js";
import type { RemoteOrigin } from "../store/remote-blobs.js";
import { KilnError } from "../util/errors.js";
import { Semaphore } from "../util/semaphore.js";
import { baseImage } from "../image/base-image.js";
import { ensureBaseSnapshots } from "../snapshot/base-snapshots.js";
import { OnDemandLayers } from "./on-demand-layers.js";
import { ignoreEvents } from "./events.js";
import { InflightSteps } from "./inflight-steps.js";
import { emptyState, stateFromImage, toImageConfig, type ImageState, type LayerRecord } from "../image/image-state.js";
import { ensureLayerBlob } from "../snapshot/layer-blobs.js";
import { imageFromOciLayout } from "../import/oci-layout-source.js";
import type { FromSource } from "../snapshot/source-view.js";
import { proxyEnv, SANDBOX_HOSTNAME_ARG } from "../plan/proxy-args.js";
import { annotationsFor, buildRegistryAccess, type BuildOptions } from "./options.js";
import { writeOutputs } from "../export/outputs.js";
import { stageWithOnbuildTriggers } from "../steps/onbuild.js";
import { runStage, runStep, type StageEnv, type StageResult } from "./run-stage.js";
import { isShownStep, StageStepNames, stageLabel } from "./step-names.js";
import { locationOf } from "../steps/step-context.js";
import { DEFAULT_NETWORK } from "../exec/runtime-spec.js";

export interface BuildResult {
  /** Absent when only a local rootfs was asked for (no blobs made). */
  readonly manifest?: Descriptor;
  readonly config: ImageConfig;
  readonly tags: readonly string[];
  /** Filesystem steps that ran, and those the cache answered. */
  readonly executed: number;
  readonly cached: number;
  /** Indexes of the stages that ran (a stage the target does not need never runs). */
  readonly stages: readonly number[];
  /** The final image's layers (for an SBOM scan of its filesystem). */
  readonly layers: readonly LayerRecord[];
  /** What ran and what it read, for provenance. */
  readonly trace: BuildTrace;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const startedOn = new Date();
  const contextDir = path.resolve(opts.contextDir);
  const { path: dockerfilePath, displayName, text } = await readDockerfile(contextDir, opts.dockerfile);
  const df = parseDockerfile(text, displayName);
  // BuildKit's checks run on every build: warnings go to the progress
  // output, and `# check=error=true` makes them fatal before any step runs.
  const lint = lintForBuild(df, text);
  for (const w of lint.warnings) (opts.onEvent ?? ignoreEvents)({ kind: "warning", message: `${w.rule}: ${w.message}`, location: w.location });
  if (lint.error) throw lint.error;
  const store = opts.store;
  // What this build reuses is claimed under the GC lock, so a concurrent
  // `kiln cache prune` never removes it; what it creates is newer than its lease.
  const lease = await Lease.open(store.paths);
  try {
    const dockerfile = { path: dockerfileName(contextDir, dockerfilePath), digest: sha256Digest(text) };
    return await buildStages(opts, df, contextDir, dockerfilePath, lease, { startedOn, dockerfile });
  } finally {
    await lease.release();
  }
}

async function buildStages(
  opts: BuildOptions,
  df: Dockerfile,
  contextDir: string,
  dockerfilePath: string,
  lease: Lease,
  traceStart: { startedOn: Date; dockerfile: BuildTrace["dockerfile"] },
): Promise<BuildResult> {
  const store = opts.store;
  const emit = opts.onEvent ?? ignoreEvents;
  const platform = opts.platform ?? hostPlatform();
  const target = targetStage(df, opts.target);
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const usedArgs = new Set<string>(buildArgs.has(SANDBOX_HOSTNAME_ARG) ? [SANDBOX_HOSTNAME_ARG] : []);
  const metaArgs = resolveMetaArgs(df, buildArgs, usedArgs, platform, opts.target ?? target.name ?? "default");
  opts = withDockerfileEpoch(opts, df, metaArgs);
  const fromNames = df.stages.map((s) => expandWordAt(s.from.image, (n) => metaArgs.get(n), s.from.location));
  // --build-context NAME=... replaces the stage named NAME: its FROM and
  // instructions never run, and references to it reach the context.
  const replaced = new Set(df.stages.flatMap((s) => (s.name !== undefined && opts.buildContexts?.[s.name] ? [s.index] : [])));
  const nodes = neededStages(df, target.index, fromNames, replaced);
  // A stage only a base image's ONBUILD trigger reads (COPY --from=x) is planned when it is first asked for.
  const nodeOf = (i: number) => nodes.find((n) => n.stage.index === i) ?? neededStages(df, i, fromNames, replaced).at(-1)!;
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const dockerfileRel = path.relative(contextDir, dockerfilePath);
  // Shared with the other platforms' builds when several build at once (options.ts PlatformShare).
  const shared = opts.multiPlatform;
  const memo = shared?.memo ?? (await StatMemo.load(path.join(store.paths.cache, "stat-memo.json")));
  const gcLocked = <T>(fn: () => Promise<T>) => withStoreLock(store.root, fn, { name: GC_LOCK });
  // One failing stage stops the others (their running steps are killed).
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let stepCounter = 0;
  const bases: ResolvedBase[] = [];
  const fromSteps = new Map<number, StepTrace>();
  const noCacheStages = new Set((opts.noCacheFilter ?? []).map((n) => n.toLowerCase()));
  // Layers --cache-from offers, fetched when a hit needs them; for this build only.
  const cacheLayers = new LazyLayers(emit);
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
  const env: Omit<StageEnv, "useCache" | "names"> = {
    dockerfilePath,
    contextDir,
    ignore: await loadDockerignore(contextDir, dockerfileRel.startsWith("..") ? undefined : dockerfileRel),
    snapshots,
    records: new StepRecords(store.paths.cache, store.paths.tmp),
    memo,
    tmpDir: store.paths.tmp,
    network: opts.network ?? DEFAULT_NETWORK,
    ...(opts.extraHosts?.length ? { extraHosts: opts.extraHosts } : {}),
    runtime: opts.runtime ?? "runc",
    ...(opts.runtimeSearchPath !== undefined ? { runtimeSearchPath: opts.runtimeSearchPath } : {}),
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    now: new Date(opts.sourceDateEpoch !== undefined ? opts.sourceDateEpoch * 1000 : Date.now()).toISOString(),
    explainAll: opts.explainCache ?? false,
    emit,
    signal: stop.signal,
    buildArgs,
    metaArgs,
    usedArgs,
    proxyEnv: proxyEnv(buildArgs, usedArgs),
    nextStepId: () => (shared ? shared.nextEventId() : ++stepCounter),
    inflight: shared?.inflight ?? new InflightSteps(),
    claim: async (parent, diffId) => {
      if (onDemand && diffId !== null) return onDemand.claim(chainIdOf(parent, diffId), diffId);
      // A --cache-from layer downloads outside the GC lock: that can take long.
      if (diffId !== null) await prefetchLayer(store, snapshots, parent, diffId, cacheLayers);
      return gcLocked(async () => {
        if (diffId === null) return true;
        const chainId = chainIdOf(parent, diffId);
        // A layer that came with --cache-from is unpacked on first use.
        if (!(await snapshots.get(chainId)) && !(await materializeLayer(store, snapshots, parent, diffId, cacheLayers))) return false;
        await lease.add([chainId]);
        return true;
      });
    },
    ...(onDemand ? { ensureChain: (layers: readonly LayerRecord[]) => onDemand.ensureChain(layers) } : {}),
    jobs: shared?.jobs ?? new Semaphore(opts.jobs ?? availableParallelism()),
    fromSource: (name, before, at) => sourceLayers(name, before, at),
    emptyCacheMounts: shared?.emptyCacheMounts ?? new Set(),
    ...(opts.secrets ? { secrets: opts.secrets } : {}),
    ...(opts.ssh ? { sshSources: opts.ssh } : {}),
    ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
  };

  const importCaches = async () => {
    for (const from of opts.cacheFrom ?? []) {
      const r = await importCache(store, env.records, from, cacheLayers, buildRegistryAccess(opts));
      emit({ kind: "info", message: `imported cache from ${from.kind === "local" ? from.dir : from.ref}: ${r.records} new records, ${r.layers} layers, ${r.mounts} cache mounts` });
    }
  };
  // Several platforms: one import at a time, the later ones finding the records and mounts there.
  await (shared ? shared.serial.run(importCaches) : importCaches());
  const running = new Map<number, Promise<StageResult>>();
  const runIndex = (i: number): Promise<StageResult> => {
    let p = running.get(i);
    if (!p) {
      p = (async () => {
        const node = nodeOf(i);
        await Promise.all(node.deps.map(runIndex));
        const stage = node.stage;
        let base: { state: ImageState; digest: string } | undefined;
        // FROM is a step of its own only when it loads an image (BuildKit: not scratch, not a stage).
        const loadsImage = replaced.has(i) || (fromNames[stage.index] !== "scratch" && stageRef(df, fromNames[stage.index]!, stage.index, replaced) === undefined);
        const own = replaced.has(i) ? { ...stage, instructions: [] } : stage;
        const names = new StageStepNames({
          ...(shared ? { platformLabel: formatPlatform(platform) } : {}),
          ...(stageLabel(stage, df.stages.length) !== undefined ? { stageLabel: stageLabel(stage, df.stages.length)! } : {}),
          total: (loadsImage ? 1 : 0) + own.instructions.filter(isShownStep).length,
        });
        await runStep(env, stage.from, loadsImage ? names.next(`FROM ${fromNames[stage.index]!}`) : undefined, async () => {
          base = await stageBase(stage);
          return base.state;
        });
        const baseId = base!.digest.replace(/^stage:/, "");
        fromSteps.set(stage.index, {
          stage: stage.index,
          ...(stage.name !== undefined ? { stageName: stage.name } : {}),
          instruction: stage.from.original,
          line: stage.from.location.line,
          cached: false,
          ...(baseId ? { from: `from:${fromNames[stage.index]!}:${baseId}` } : {}),
        });
        const useCache = !opts.noCache && !(stage.name !== undefined && noCacheStages.has(stage.name));
        const run = stageWithOnbuildTriggers(own, base!.state);
        // The base image's ONBUILD triggers run first, as steps of this stage.
        names.grow(run.stage.instructions.slice(0, run.stage.instructions.length - own.instructions.length).filter(isShownStep).length);
        return runStage({ ...env, useCache, names }, run.stage, { ...base!, state: run.state });
      })();
      p.catch(() => stop.abort());
      running.set(i, p);
    }
    return p;
  };

  async function stageBase(stage: Stage): Promise<{ state: ImageState; digest: string }> {
    if (replaced.has(stage.index)) return gcLocked(() => fromImage(store, snapshots, stage, stage.name!, platform, opts, cacheLayers));
    const dep = stageRef(df, fromNames[stage.index]!, stage.index, replaced);
    if (dep !== undefined) {
      const r = await runIndex(dep);
      // FROM <stage> inherits the stage's image, config and CMD included.
      return { state: { ...r.state, cmdFromBase: true }, digest: `stage:${r.state.layers.at(-1)?.chainId ?? ""}` };
    }
    const want = stage.from.platform ? parsePlatform(expandWordAt(stage.from.platform, (n) => metaArgs.get(n), stage.from.location)) : platform;
    return gcLocked(async () => {
      const b = await fromImage(store, snapshots, stage, fromNames[stage.index]!, want, opts, cacheLayers);
      await lease.add(b.state.layers.map((l) => l.chainId));
      if (b.digest) bases.push({ ref: fromNames[stage.index]!, digest: b.digest as Digest, platform: b.state.platform });
      return b;
    });
  }

  /** COPY --from / RUN --mount=from: an earlier stage, a named build context, or an image. */
  async function sourceLayers(name: string, before: number, at: Location): Promise<FromSource> {
    const dep = stageRef(df, name, before, replaced);
    if (dep !== undefined) return { kind: "layers", layers: (await runIndex(dep)).state.layers };
    const named = opts.buildContexts?.[name];
    if (named?.kind === "dir") {
      const dir = path.resolve(named.path);
      return { kind: "dir", dir, ignore: await loadDockerignore(dir) };
    }
    const fake = { ...df.stages[before]!, from: { ...df.stages[before]!.from, image: name, platform: undefined, location: at } } as Stage;
    return gcLocked(async () => {
      const b = await fromImage(store, snapshots, fake, name, platform, opts, cacheLayers);
      await lease.add(b.state.layers.map((l) => l.chainId));
      if (b.digest) bases.push({ ref: name, digest: b.digest as Digest, platform: b.state.platform });
      return { kind: "layers", layers: b.state.layers };
    });
  }

  let result: StageResult;
  try {
    result = await runIndex(target.index);
  } catch (err) {
    // Let the other stages stop and unmount before reporting the first error.
    await Promise.allSettled(running.values());
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
  if (!shared) await memo.save(store.paths.tmp);
  for (const name of buildArgs.keys()) {
    if (!usedArgs.has(name)) emit({ kind: "warning", message: `build-arg ${name} was not consumed by any ARG in the Dockerfile` });
  }
  let executed = 0;
  let cached = 0;
  const keys: Digest[] = [];
  const steps: StepTrace[] = [];
  for (const [i, p] of [...running].sort(([a], [b]) => a - b)) {
    const r = await p;
    steps.push(...(fromSteps.has(i) ? [fromSteps.get(i)!] : []), ...r.trace);
    executed += r.executed;
    cached += r.cached;
    if (opts.cacheTo?.mode === "max" || i === target.index) keys.push(...r.keys);
  }
  if (opts.cacheTo && shared) shared.exportKeys(keys);
  else if (opts.cacheTo) {
    const c = await gcLocked(() => exportCache(store, snapshots, env.records, keys, opts.cacheTo!, buildRegistryAccess(opts)));
    const to = opts.cacheTo.to;
    emit({ kind: "info", message: `exported cache to ${to.kind === "local" ? to.dir : to.ref}: ${c.records} records, ${c.mounts} cache mounts (${c.manifest.digest})` });
  }
  // With SOURCE_DATE_EPOCH the provenance is part of the reproducible
  // output, so it carries the epoch, not the wall clock (see attest/provenance.ts).
  const clock = (d: Date) => (opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000) : d).toISOString();
  const trace: BuildTrace = {
    startedOn: clock(traceStart.startedOn),
    finishedOn: clock(new Date()),
    dockerfile: traceStart.dockerfile,
    bases: uniqueBases(bases),
    steps,
  };
  return finish(opts, snapshots, gcLocked, onDemand, result.state, { executed, cached, stages: [...running.keys()].sort((a, b) => a - b), layers: result.state.layers, trace });
}

async function finish(
  opts: BuildOptions,
  snapshots: SnapshotIndex,
  gcLocked: <T>(fn: () => Promise<T>) => Promise<T>,
  onDemand: OnDemandLayers | undefined,
  state: ImageState,
  stats: { executed: number; cached: number; stages: number[]; layers: readonly LayerRecord[]; trace: BuildTrace },
): Promise<BuildResult> {
  const store = opts.store;
  // The image is as old as its newest step: a fully cached rebuild
  // reproduces the config, and so the digest.
  const config = withLabels(toImageConfig(state, state.history.at(-1)?.created ?? new Date().toISOString(), opts.sourceDateEpoch), opts.labels);
  const tags = (opts.tags ?? []).map(normalizeReference);
  // Layers are compressed only when something needs blobs: a tag in the
  // store, or an image output. `--output type=local` alone needs none.
  const outputs = opts.outputs ?? [];
  const onlyLocal = tags.length === 0 && outputs.length > 0 && outputs.every((o) => o.kind === "local" || o.kind === "tar");
  // Blobs reused from the cache are old: hold the GC lock until a ref names them.
  return gcLocked(async () => {
    let manifest: Descriptor | undefined;
    if (!onlyLocal) {
      const layers: Descriptor[] = [];
      for (const l of state.layers) layers.push(onDemand ? await onDemand.manifestBlob(l) : await ensureLayerBlob(store, snapshots, l));
      const annotations = annotationsFor(opts.annotations, "manifest", state.platform);
      manifest = await store.putImage(config, layers, annotations ? { annotations } : {});
      for (const t of tags) await store.tag(t, manifest);
    }
    // A rootfs output reads every snapshot: layers left in a registry come over now.
    if (outputs.some((o) => o.kind === "local" || o.kind === "tar")) await onDemand?.ensureChain(state.layers);
    await writeOutputs(store, snapshots, { ...(manifest ? { manifest } : {}), config, layers: state.layers, tags }, outputs);
    return { ...(manifest ? { manifest } : {}), config, tags, ...stats };
  });
}

/** --label values over the Dockerfile's LABELs, as docker build. */
function withLabels(config: ImageConfig, labels: Readonly<Record<string, string>> | undefined): ImageConfig {
  if (!labels || Object.keys(labels).length === 0) return config;
  return { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, ...labels } } };
}

/** The Dockerfile's name as provenance records it: relative to the context when inside it (no host path). */
function dockerfileName(contextDir: string, file: string): string {
  const rel = path.relative(contextDir, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(file) : rel;
}

function uniqueBases(bases: readonly ResolvedBase[]): ResolvedBase[] {
  const seen = new Map<string, ResolvedBase>();
  for (const b of bases) seen.set(`${b.ref}@${b.digest}`, b);
  return [...seen.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : a.digest < b.digest ? -1 : 1));
}

function targetStage(df: Dockerfile, target: string | undefined): Stage {
  if (df.stages.length === 0) throw new KilnError("NO_STAGES", `dockerfile contains no stages to build: ${df.file} has no FROM instruction`, { hint: "a Dockerfile starts with FROM IMAGE (or FROM scratch)" });
  if (target === undefined) return df.stages.at(-1)!;
  const s = df.stages.find((x) => x.name === target.toLowerCase());
  if (!s) {
    const named = df.stages.flatMap((x) => (x.name ? [x.name] : []));
    const close = suggest(target, named);
    throw new KilnError("NO_SUCH_TARGET", `target stage "${target}" could not be found${close ? ` (did you mean ${close}?)` : ""} in ${df.file}`, {
      hint: named.length > 0 ? `named stages: ${named.join(", ")}` : "the Dockerfile names no stage (FROM IMAGE AS NAME)",
    });
  }
  return s;
}

/**
 * ARGs before the first FROM, with the predefined ARGs (platforms, and
 * TARGETSTAGE: the stage being built, "default" for an unnamed last stage),
 * for FROM lines.
 */
function resolveMetaArgs(df: Dockerfile, buildArgs: Map<string, string>, used: Set<string>, target: Platform, targetStage: string): Map<string, string | undefined> {
  const host = hostPlatform();
  const m = new Map<string, string | undefined>([
    ["TARGETSTAGE", targetStage],
    ["TARGETPLATFORM", formatPlatform(target)],
    ["TARGETOS", target.os],
    ["TARGETARCH", target.architecture],
    ["TARGETVARIANT", target.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(host)],
    ["BUILDOS", host.os],
    ["BUILDARCH", host.architecture],
    ["BUILDVARIANT", host.variant ?? ""],
  ]);
  for (const instr of df.metaArgs) {
    for (const a of instr.args) {
      const cli = buildArgs.get(a.name);
      if (cli !== undefined) used.add(a.name);
      m.set(a.name, cli ?? (a.default !== undefined ? expandWordAt(a.default, (n) => m.get(n), instr.location) : undefined));
    }
  }
  return m;
}

/**
 * `ARG SOURCE_DATE_EPOCH=…` before the first FROM sets the epoch when
 * neither --build-arg nor the environment did (BuildKit reads it from the
 * global args); a value that is not whole seconds is refused before any step runs.
 */
function withDockerfileEpoch(opts: BuildOptions, df: Dockerfile, metaArgs: ReadonlyMap<string, string | undefined>): BuildOptions {
  const value = metaArgs.get("SOURCE_DATE_EPOCH");
  if (opts.sourceDateEpoch !== undefined || value === undefined || value === "") return opts;
  if (!/^\d+$/.test(value)) {
    const decl = df.metaArgs.find((i) => i.args.some((a) => a.name === "SOURCE_DATE_EPOCH"));
    throw new KilnError("INVALID_SOURCE_DATE_EPOCH", `invalid SOURCE_DATE_EPOCH: ${value}`, {
      ...(decl ? { location: locationOf(decl.location) } : {}),
      hint: "SOURCE_DATE_EPOCH is a Unix time in whole seconds, e.g. $(git log -1 --format=%ct)",
    });
  }
  return { ...opts, sourceDateEpoch: Number(value) };
}

async function fromImage(store: Store, snapshots: SnapshotIndex, stage: Stage, name: string, want: Platform, opts: BuildOptions, lazy: LazyLayers): Promise<{ state: ImageState; digest: string }> {
  const loc = locationOf(stage.from.location);
  const named = opts.buildContexts?.[name];
  if (named?.kind === "dir") {
    throw new KilnError("BAD_BUILD_CONTEXT", `FROM ${name}: the build context "${name}" is a directory, not an image`, { location: loc, hint: "use it with COPY --from or RUN --mount=from" });
  }
  if (named?.kind === "image") name = named.ref;
  // docker-image://scratch is the empty image, as BuildKit's named contexts.
  if (name === "scratch") return { state: emptyState(want), digest: "" };
  const resolved =
    named?.kind === "oci-layout"
      ? await imageFromOciLayout(store, named.path, named.tag, want)
      : await baseImage(store, name, want, opts, opts.onEvent ?? ignoreEvents, loc);
  const have = { os: resolved.config.os, architecture: resolved.config.architecture, ...(resolved.config.variant ? { variant: resolved.config.variant } : {}) };
  if (!platformMatches(want, have)) {
    throw new KilnError("PLATFORM_MISMATCH", `base image "${name}" is ${formatPlatform(have)}, but the build is for ${formatPlatform(want)}`, { location: loc });
  }
  // A base left in its registry (remoteLayers "on-demand"): its layers are offered, not fetched.
  const origin = (resolved as { origin?: RemoteOrigin }).origin;
  const remote = origin ? { lazy, source: { name, origin, fetch: async (d: Descriptor) => (await import("../registry/remote-blob.js")).fetchFromOrigin(store, d, origin, buildRegistryAccess(opts)) } } : undefined;
  const layers = await ensureBaseSnapshots(store, snapshots, resolved.manifest, resolved.config, remote);
  return { state: stateFromImage(resolved.config, layers), digest: resolved.manifestDescriptor.digest };
}
