// build(options): Dockerfile + context -> an image in the store (and any
// outputs). The typed API the CLI calls; progress goes out as events.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { StepRecords } from "../cache/records.js";
import { StatMemo } from "../cache/stat-memo.js";
import { loadDockerignore } from "../context/dockerignore.js";
import { expandWord } from "../dockerfile/expand.js";
import { parseDockerfile } from "../dockerfile/parse.js";
import type { Dockerfile, Stage } from "../dockerfile/types.js";
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, type Platform } from "../oci/platform.js";
import { normalizeReference } from "../oci/reference.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { ensureBaseSnapshots } from "./base-snapshots.js";
import { ignoreEvents } from "./events.js";
import { emptyState, stateFromImage, toImageConfig, type ImageState } from "./image-state.js";
import { ensureLayerBlob } from "./layer-blobs.js";
import type { BuildOptions } from "./options.js";
import { writeOutputs } from "./outputs.js";
import { runStage, runStep, type StageEnv } from "./run-stage.js";
import { locationOf } from "./step-context.js";

export interface BuildResult {
  /** Absent when only a local rootfs was asked for (no blobs made). */
  readonly manifest?: Descriptor;
  readonly config: ImageConfig;
  readonly tags: readonly string[];
  /** Filesystem steps that ran, and those the cache answered. */
  readonly executed: number;
  readonly cached: number;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const emit = opts.onEvent ?? ignoreEvents;
  const contextDir = path.resolve(opts.contextDir);
  const dockerfilePath = path.resolve(opts.dockerfile ?? path.join(contextDir, "Dockerfile"));
  const displayName = path.relative(process.cwd(), dockerfilePath) || "Dockerfile";
  let text: string;
  try {
    text = await readFile(dockerfilePath, "utf8");
  } catch {
    throw new KilnError("NO_DOCKERFILE", `cannot read Dockerfile ${displayName}`, { hint: "pass -f PATH, or put a Dockerfile in the context directory" });
  }
  const df = parseDockerfile(text, displayName);
  const platform = opts.platform ?? hostPlatform();
  const stage = targetStage(df, opts.target);
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const usedArgs = new Set<string>();
  const metaArgs = resolveMetaArgs(df, buildArgs, usedArgs, platform);
  const store = opts.store;
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const now = new Date(opts.sourceDateEpoch !== undefined ? opts.sourceDateEpoch * 1000 : Date.now()).toISOString();
  const dockerfileRel = path.relative(contextDir, dockerfilePath);
  const memo = await StatMemo.load(path.join(store.paths.cache, "stat-memo.json"));
  // What this build reuses is claimed under the GC lock, so a concurrent
  // `kiln cache prune` never removes it; what it creates is newer than its lease.
  const lease = await Lease.open(store.paths);
  const gcLocked = <T>(fn: () => Promise<T>) => withStoreLock(store.root, fn, { name: GC_LOCK });
  try {
    return await buildWithLease();
  } finally {
    await lease.release();
  }
  async function buildWithLease(): Promise<BuildResult> {
  let stepCounter = 0;
  const env: StageEnv = {
    dockerfilePath,
    contextDir,
    ignore: await loadDockerignore(contextDir, dockerfileRel.startsWith("..") ? undefined : dockerfileRel),
    snapshots,
    records: new StepRecords(store.paths.cache, store.paths.tmp),
    memo,
    tmpDir: store.paths.tmp,
    network: opts.network ?? "none",
    runtime: opts.runtime ?? "runc",
    ...(opts.runtimeSearchPath !== undefined ? { runtimeSearchPath: opts.runtimeSearchPath } : {}),
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    now,
    useCache: !opts.noCache && !(stage.name !== undefined && (opts.noCacheFilter ?? []).some((n) => n.toLowerCase() === stage.name)),
    explainAll: opts.explainCache ?? false,
    emit,
    ...(opts.signal ? { signal: opts.signal } : {}),
    buildArgs,
    metaArgs,
    usedArgs,
    nextStepId: () => ++stepCounter,
    claim: (chainId) =>
      gcLocked(async () => {
        if (chainId === null) return true;
        if (!(await snapshots.get(chainId))) return false;
        await lease.add([chainId]);
        return true;
      }),
    totalSteps: stage.instructions.length + 1,
  };

  let base: { state: ImageState; digest: string } | undefined;
  await runStep(env, stage.from, async () => {
    base = await gcLocked(async () => {
      const b = await fromImage(store, snapshots, stage, metaArgs, platform);
      await lease.add(b.state.layers.map((l) => l.chainId));
      return b;
    });
    return base.state;
  });
  const result = await runStage(env, stage, base!);
  await memo.save(store.paths.tmp);
  for (const name of buildArgs.keys()) {
    if (!usedArgs.has(name)) emit({ kind: "warning", message: `build-arg ${name} was not consumed by any ARG in the Dockerfile` });
  }

  const state = result.state;
  // The image is as old as its newest step: a fully cached rebuild
  // reproduces the config, and so the digest.
  const config = toImageConfig(state, state.history.at(-1)?.created ?? now);
  const tags = (opts.tags ?? []).map(normalizeReference);
  // Layers are compressed only when something needs blobs: a tag in the
  // store, or an image output. `--output type=local` alone needs none.
  const outputs = opts.outputs ?? [];
  const onlyLocal = tags.length === 0 && outputs.length > 0 && outputs.every((o) => o.kind === "local");
  // Blobs reused from the cache are old: hold the GC lock until a ref names them.
  return gcLocked(async () => {
    let manifest: Descriptor | undefined;
    if (!onlyLocal) {
      const layers: Descriptor[] = [];
      for (const l of state.layers) layers.push(await ensureLayerBlob(store, snapshots, l));
      manifest = await store.putImage(config, layers);
      for (const t of tags) await store.tag(t, manifest);
    }
    await writeOutputs(store, snapshots, { ...(manifest ? { manifest } : {}), config, layers: state.layers, tags }, outputs);
    return { ...(manifest ? { manifest } : {}), config, tags, executed: result.executed, cached: result.cached };
  });
  }
}

function targetStage(df: Dockerfile, target: string | undefined): Stage {
  if (df.stages.length === 0) throw new KilnError("NO_STAGES", `${df.file} has no FROM instruction`, { hint: "a Dockerfile starts with FROM IMAGE (or FROM scratch)" });
  if (target === undefined) return df.stages.at(-1)!;
  const s = df.stages.find((x) => x.name === target.toLowerCase());
  if (!s) throw new KilnError("NO_SUCH_TARGET", `target stage "${target}" could not be found in ${df.file}`, { hint: `stages: ${df.stages.map((x) => x.name ?? x.index).join(", ")}` });
  return s;
}

/** ARGs before the first FROM, with predefined platform ARGs, for FROM lines. */
function resolveMetaArgs(df: Dockerfile, buildArgs: Map<string, string>, used: Set<string>, target: Platform): Map<string, string | undefined> {
  const host = hostPlatform();
  const m = new Map<string, string | undefined>([
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
      m.set(a.name, cli ?? (a.default !== undefined ? expandWord(a.default, (n) => m.get(n)) : undefined));
    }
  }
  return m;
}

async function fromImage(store: Store, snapshots: SnapshotIndex, stage: Stage, metaArgs: Map<string, string | undefined>, platform: Platform): Promise<{ state: ImageState; digest: string }> {
  const loc = locationOf(stage.from.location);
  const name = expandWord(stage.from.image, (n) => metaArgs.get(n));
  const want = stage.from.platform ? parsePlatform(expandWord(stage.from.platform, (n) => metaArgs.get(n))) : platform;
  if (name === "scratch") return { state: emptyState(want), digest: "" };
  const resolved = await store.resolveImage(name, want);
  if (!resolved) {
    throw new KilnError("BASE_IMAGE_NOT_FOUND", `base image "${name}" is not in the local store`, {
      location: loc,
      hint: `import one with \`kiln import ROOTFS.tar ${name}\` (kiln images lists what the store has)`,
    });
  }
  const have = { os: resolved.config.os, architecture: resolved.config.architecture, ...(resolved.config.variant ? { variant: resolved.config.variant } : {}) };
  if (!platformMatches(want, have)) {
    throw new KilnError("PLATFORM_MISMATCH", `base image "${name}" is ${formatPlatform(have)}, but the build is for ${formatPlatform(want)}`, { location: loc });
  }
  const layers = await ensureBaseSnapshots(store, snapshots, resolved.manifest, resolved.config);
  return { state: stateFromImage(resolved.config, layers), digest: resolved.manifestDescriptor.digest };
}
