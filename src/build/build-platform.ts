// One platform of a build: runs only the stages the target needs, each as
// soon as the stages it reads from are done, so independent stages run at
// the same time; the first failure stops the others. What the platforms
// share (lease, --jobs, in-flight steps, the stop signal) is the session's
// (session.ts); build.ts runs one of these per platform, then writes the images.
import path from "node:path";
import { loadDockerignore } from "../context/dockerignore.js";
import { expandWordAt } from "../dockerfile/expand.js";
import { suggest } from "../dockerfile/suggest.js";
import type { Dockerfile, Location, Stage } from "../dockerfile/types.js";
import type { ImageConfig } from "../oci/config.js";
import type { Digest } from "../oci/digest.js";
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, type Platform } from "../oci/platform.js";
import { neededStages, stageRef } from "../plan/stage-graph.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import type { RemoteOrigin } from "../store/remote-blobs.js";
import type { LazyLayers } from "../cache/lazy-layers.js";
import type { Descriptor } from "../oci/descriptor.js";
import { buildRegistryAccess, type BuildOptions } from "./options.js";
import { KilnError } from "../util/errors.js";
import { DEFAULT_NETWORK } from "../exec/runtime-spec.js";
import { imageFromOciLayout } from "../import/oci-layout-source.js";
import { baseImage } from "../image/base-image.js";
import { ensureBaseSnapshots } from "../snapshot/base-snapshots.js";
import type { BuildTrace, ResolvedBase, StepTrace } from "../attest/build-trace.js";
import { ignoreEvents } from "./events.js";
import { emptyState, stateFromImage, toImageConfig, type ImageState } from "../image/image-state.js";
import { proxyEnv, SANDBOX_HOSTNAME_ARG } from "../plan/proxy-args.js";
import { runStage, runStep, type RunSettings, type StageEnv, type StageResult } from "./run-stage.js";
import type { BuildSession } from "./session.js";
import type { FromSource } from "../snapshot/source-view.js";
import { locationOf } from "../steps/step-context.js";
import { isShownStep, StageStepNames, stageLabel } from "./step-names.js";
import { stageWithOnbuildTriggers } from "../steps/onbuild.js";

/** What one platform's build made: its final image state, and what ran. */
export interface PlatformRun {
  readonly platform: Platform;
  readonly state: ImageState;
  /** The image config, labels and the epoch applied. */
  readonly config: ImageConfig;
  /** Filesystem steps that ran, and those the cache answered. */
  readonly executed: number;
  readonly cached: number;
  /** Indexes of the stages that ran (a stage the target does not need never runs). */
  readonly stages: readonly number[];
  /** Cache keys for --cache-to (every stage's with mode=max, else the target's). */
  readonly keys: readonly Digest[];
  /** Build args some ARG consumed (the others are reported unused). */
  readonly usedArgs: ReadonlySet<string>;
  /** What ran and what it read, for provenance. */
  readonly trace: BuildTrace;
}

export async function buildPlatform(opts: BuildOptions, s: BuildSession, platform: Platform): Promise<PlatformRun> {
  const { store, df, snapshots, lease, gcLocked } = s;
  const target = targetStage(df, opts.target);
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const usedArgs = new Set<string>(buildArgs.has(SANDBOX_HOSTNAME_ARG) ? [SANDBOX_HOSTNAME_ARG] : []);
  const metaArgs = resolveMetaArgs(df, buildArgs, usedArgs, platform, opts.target ?? target.name ?? "default");
  opts = withDockerfileEpoch(opts, df, metaArgs);
  const fromNames = df.stages.map((st) => expandWordAt(st.from.image, (n) => metaArgs.get(n), st.from.location));
  // --build-context NAME=... replaces the stage named NAME: its FROM and
  // instructions never run, and references to it reach the context.
  const replaced = new Set(df.stages.flatMap((st) => (st.name !== undefined && opts.buildContexts?.[st.name] ? [st.index] : [])));
  const nodes = neededStages(df, target.index, fromNames, replaced);
  // A stage only a base image's ONBUILD trigger reads (COPY --from=x) is planned when it is first asked for.
  const nodeOf = (i: number) => nodes.find((n) => n.stage.index === i) ?? neededStages(df, i, fromNames, replaced).at(-1)!;
  const bases: ResolvedBase[] = [];
  const fromSteps = new Map<number, StepTrace>();
  const noCacheStages = new Set((opts.noCacheFilter ?? []).map((n) => n.toLowerCase()));
  const env: Omit<StageEnv, "useCache" | "names"> = {
    session: s,
    exec: runSettings(opts),
    args: { buildArgs, metaArgs, usedArgs, proxyEnv: proxyEnv(buildArgs, usedArgs) },
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    now: new Date(opts.sourceDateEpoch !== undefined ? opts.sourceDateEpoch * 1000 : Date.now()).toISOString(),
    explainAll: opts.explainCache ?? false,
    claim: s.claim,
    ...(s.onDemand ? { ensureChain: s.onDemand.ensureChain.bind(s.onDemand) } : {}),
    fromSource: (name, before, at) => sourceLayers(name, before, at),
  };

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
          ...(s.labelPlatforms ? { platformLabel: formatPlatform(platform) } : {}),
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
      p.catch((err: unknown) => s.fail(err));
      running.set(i, p);
    }
    return p;
  };

  /** An image FROM or COPY --from names, resolved under the GC lock and claimed in the lease. */
  const loadImage = (stage: Stage, name: string, want: Platform) =>
    gcLocked(async () => {
      const b = await fromImage(store, snapshots, stage, name, want, opts, s.cacheLayers);
      await lease.add(b.state.layers.map((l) => l.chainId));
      if (b.digest) bases.push({ ref: name, digest: b.digest as Digest, platform: b.state.platform });
      return b;
    });

  async function stageBase(stage: Stage): Promise<{ state: ImageState; digest: string }> {
    if (replaced.has(stage.index)) return gcLocked(() => fromImage(store, snapshots, stage, stage.name!, platform, opts, s.cacheLayers));
    const dep = stageRef(df, fromNames[stage.index]!, stage.index, replaced);
    if (dep !== undefined) {
      const r = await runIndex(dep);
      // FROM <stage> inherits the stage's image, config and CMD included.
      return { state: { ...r.state, cmdFromBase: true }, digest: `stage:${r.state.layers.at(-1)?.chainId ?? ""}` };
    }
    const want = stage.from.platform ? parsePlatform(expandWordAt(stage.from.platform, (n) => metaArgs.get(n), stage.from.location)) : platform;
    return loadImage(stage, fromNames[stage.index]!, want);
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
    return { kind: "layers", layers: (await loadImage(fake, name, platform)).state.layers };
  }

  let result: StageResult;
  try {
    result = await runIndex(target.index);
  } catch (err) {
    // Let the other stages stop and unmount before reporting the first error.
    await Promise.allSettled(running.values());
    throw err;
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
  // With SOURCE_DATE_EPOCH the provenance is part of the reproducible
  // output, so it carries the epoch, not the wall clock (see attest/provenance.ts).
  const clock = (d: Date) => (opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000) : d).toISOString();
  const trace: BuildTrace = { startedOn: clock(s.startedOn), finishedOn: clock(new Date()), dockerfile: s.dockerfile, bases: uniqueBases(bases), steps };
  const state = result.state;
  // The image is as old as its newest step: a fully cached rebuild
  // reproduces the config, and so the digest.
  const config = withLabels(toImageConfig(state, state.history.at(-1)?.created ?? new Date().toISOString(), opts.sourceDateEpoch), opts.labels);
  return { platform, state, config, executed, cached, stages: [...running.keys()].sort((a, b) => a - b), keys, usedArgs, trace };
}

/** How RUN executes, from the build's options. */
function runSettings(opts: BuildOptions): RunSettings {
  return {
    network: opts.network ?? DEFAULT_NETWORK,
    ...(opts.extraHosts?.length ? { extraHosts: opts.extraHosts } : {}),
    runtime: opts.runtime ?? "runc",
    ...(opts.runtimeSearchPath !== undefined ? { runtimeSearchPath: opts.runtimeSearchPath } : {}),
    ...(opts.secrets ? { secrets: opts.secrets } : {}),
    ...(opts.ssh ? { sshSources: opts.ssh } : {}),
    ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
  };
}

/** --label values over the Dockerfile's LABELs, as docker build. */
function withLabels(config: ImageConfig, labels: Readonly<Record<string, string>> | undefined): ImageConfig {
  if (!labels || Object.keys(labels).length === 0) return config;
  return { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, ...labels } } };
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
      : await baseImage(
          store,
          name,
          want,
          {
            pull: opts.pull === true,
            onDemand: opts.remoteLayers === "on-demand",
            client: buildRegistryAccess(opts),
            info: (message) => (opts.onEvent ?? ignoreEvents)({ kind: "info", message }),
          },
          loc,
        );
  const have = { os: resolved.config.os, architecture: resolved.config.architecture, ...(resolved.config.variant ? { variant: resolved.config.variant } : {}) };
  if (!platformMatches(want, have)) {
    throw new KilnError("PLATFORM_MISMATCH", `base image "${name}" is ${formatPlatform(have)}, but the build is for ${formatPlatform(want)}`, { location: loc });
  }
  // A base left in its registry (remoteLayers "on-demand"): its layers are offered, not fetched.
  const origin = (resolved as { origin?: RemoteOrigin }).origin;
  const source = origin ? { name, origin, fetch: async (d: Descriptor) => (await import("../registry/remote-blob.js")).fetchFromOrigin(store, d, origin, buildRegistryAccess(opts)) } : undefined;
  const offer = source ? (diffId: Digest, blob: Descriptor) => lazy.offer(diffId, source, blob) : undefined;
  const layers = await ensureBaseSnapshots(store, snapshots, resolved.manifest, resolved.config, offer);
  return { state: stateFromImage(resolved.config, layers), digest: resolved.manifestDescriptor.digest };
}
