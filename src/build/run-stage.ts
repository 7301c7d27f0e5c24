// Runs one stage's instructions over its base, step by step, asking the
// cache first for every filesystem step. A hit reuses the recorded layer
// (and its history entry, so a no-op rebuild gives the same digest); a miss
// runs the handler, records the result, and says why it missed.
import { copyKey, fileStepInputs, workdirKey } from "../cache/copy-key.js";
import { runInputs } from "../cache/run-key.js";
import { resolveCopy, resolveWorkdir } from "../plan/resolve-copy.js";
import { resolveRun } from "../plan/resolve-run.js";
import { copySources } from "../steps/copy-sources.js";
import { runMountSources } from "../steps/run-mount-sources.js";
import { explainMiss } from "../cache/explain.js";
import { stepIdentity, writtenInstruction, type StepInputs } from "../cache/records.js";
import type { StepTrace } from "../attest/build-trace.js";
import { expandWord } from "../dockerfile/expand.js";
import type { Instruction, Location, Stage } from "../dockerfile/types.js";
import type { RuntimeName } from "../exec/find-runtime.js";
import type { ExtraHost, NetworkMode } from "../exec/runtime-spec.js";
import { envLookup, type ContainerConfig } from "../oci/config.js";
import { formatPlatform } from "../oci/platform.js";
import type { Digest } from "../oci/digest.js";
import { chainIdOf } from "../store/snapshot-index.js";
import { KilnError } from "../util/errors.js";
import { withLayer, type ImageState } from "../image/image-state.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import type { FromSource } from "../snapshot/source-view.js";
import { historyFor, locationOf, type StepContext } from "../steps/step-context.js";
import { applyCopy } from "../steps/copy.js";
import { applyMetadata } from "../steps/metadata.js";
import { applyRun } from "../steps/run.js";
import { applyWorkdir } from "../steps/workdir.js";
import { applyHealthcheck } from "../steps/healthcheck.js";
import { applyMaintainer } from "../steps/maintainer.js";
import { applyOnbuild } from "../steps/onbuild.js";
import { isShownStep, type StageStepNames } from "./step-names.js";
import { SANDBOX_HOSTNAME_ARG } from "../plan/proxy-args.js";
import type { SecretSource } from "../exec/secret-source.js";
import type { SshSource } from "../exec/ssh-agent.js";
import type { SandboxOptions } from "../exec/sandbox.js";
import { withPhases } from "../util/phases.js";
import type { BuildSession } from "./session.js";

/** How RUN executes in this build: the same for every stage and platform. */
export interface RunSettings {
  readonly network: NetworkMode;
  readonly extraHosts?: readonly ExtraHost[];
  readonly runtime: RuntimeName;
  /** PATH searched for the runtime. */
  readonly runtimeSearchPath?: string;
  readonly secrets?: readonly SecretSource[];
  readonly sshSources?: readonly SshSource[];
  readonly sandbox?: SandboxOptions;
}

/** The build arguments one platform's stages see. */
export interface StageArgs {
  readonly buildArgs: ReadonlyMap<string, string>;
  /** ARGs before the first FROM, with the predefined platform args. */
  readonly metaArgs: ReadonlyMap<string, string | undefined>;
  /** Build args some ARG consumed (for the "not consumed" warning). */
  readonly usedArgs: Set<string>;
  /** Undeclared proxy build args, for RUN's environment only. */
  readonly proxyEnv: readonly string[];
}

/**
 * What a stage runs with. The session (session.ts) holds what the whole
 * build shares (store views, cache records, events, --jobs, in-flight
 * steps, the stop signal); the rest is this platform's and this stage's.
 */
export interface StageEnv {
  readonly session: BuildSession;
  readonly exec: RunSettings;
  readonly args: StageArgs;
  readonly sourceDateEpoch?: number;
  /** Timestamp for steps that make a new layer. */
  readonly now: string;
  readonly useCache: boolean;
  readonly explainAll: boolean;
  /** Names this stage's shown steps (step-names.ts); in a multi-platform build they start with the platform, as buildx. */
  readonly names: StageStepNames;
  /** Under the GC lock: true if the chain's snapshot exists, and keeps it from GC for this build. */
  readonly claim: (parent: Digest | null, diffId: Digest | null) => Promise<boolean>;
  /** remoteLayers "on-demand": fetches and unpacks what a step's filesystem needs (cache/on-demand-layers.ts). */
  readonly ensureChain?: (layers: readonly LayerRecord[]) => Promise<void>;
  /** Layers of an earlier stage or an image, for COPY --from and RUN --mount=from. */
  /** `at`: the instruction that names the source, where a missing image is reported. */
  readonly fromSource: (name: string, beforeStage: number, at: Location) => Promise<FromSource>;
}

export interface StageResult {
  readonly state: ImageState;
  readonly executed: number;
  readonly cached: number;
  /** Cache keys of the filesystem steps this stage used or recorded (--cache-to). */
  readonly keys: readonly Digest[];
  /** Every instruction of the stage, in order, for provenance. */
  readonly trace: readonly StepTrace[];
}

export async function runStage(env: StageEnv, stage: Stage, base: { state: ImageState; digest: string }): Promise<StageResult> {
  let state = base.state;
  let executed = 0;
  let cached = 0;
  const keys: Digest[] = [];
  const trace: StepTrace[] = [];
  const args = new Map<string, string | undefined>();
  const platform = formatPlatform(state.platform);

  for (const [index, instr] of stage.instructions.entries()) {
    let inputs: { key: Digest; inputs: StepInputs } | undefined;
    let hit = false;
    const before = state.layers.length;
    state = await runStep(env, instr, isShownStep(instr) ? env.names.next(instr.original) : undefined, async (id) => {
      // New layers carry the build's time; metadata steps the time of the
      // step before them, so a fully cached rebuild reproduces every field.
      const layerStep = isLayerInstruction(instr);
      // With SOURCE_DATE_EPOCH every entry the build adds says the epoch.
      const created = layerStep || env.sourceDateEpoch !== undefined ? env.now : (state.history.at(-1)?.created ?? env.now);
      const ctx = { ...stepContext(env, id, created, args), fromSource: (name: string) => env.fromSource(name, stage.index, instr.location) };
      if (instr.kind === "arg") {
        declareArgs(env, args, instr.args, state.config.Env);
        return { ...state, history: [...state.history, { ...historyFor(ctx, instr.original), empty_layer: true }] };
      }
      if (!isLayerInstruction(instr)) return applyInstruction(ctx, state, instr);

      let probe: { key: Digest; inputs: StepInputs } | undefined;
      const point = { chainId: state.layers.at(-1)?.chainId ?? "", platform, epoch: env.sourceDateEpoch !== undefined ? String(env.sourceDateEpoch) : "" };
      let exec: () => Promise<ImageState> | ImageState;
      if (instr.kind === "run") {
        // Resolved once: the key is made of exactly what the executor runs.
        const run = resolveRun(instr, { config: state.config, args, proxyEnv: env.args.proxyEnv, network: env.exec.network, ...(env.exec.extraHosts ? { extraHosts: env.exec.extraHosts } : {}), ...(env.args.buildArgs.has(SANDBOX_HOSTNAME_ARG) ? { hostname: env.args.buildArgs.get(SANDBOX_HOSTNAME_ARG)! } : {}), ...(env.exec.sandbox ? { sandbox: env.exec.sandbox } : {}) });
        const sources = await runMountSources(
          { contextDir: env.session.contextDir, ignore: env.session.ignore, memo: env.session.memo, layerEnv: ctx.layerEnv, digestDir: env.session.records.mountDigestDir, fromSource: ctx.fromSource },
          run,
          locationOf(instr.location),
        );
        probe = runInputs({ ...point, base: base.digest, args }, instr, run, sources);
        const runCtx = env.useCache ? ctx : { ...ctx, emptyCacheMounts: env.session.emptyCacheMounts };
        exec = () => applyRun(runCtx, state, instr.location, { run, sources });
      } else if (instr.kind === "workdir") {
        const workdir = resolveWorkdir(instr, { config: state.config, args });
        probe = { key: workdirKey({ ...point, workdir }), inputs: fileStepInputs({ ...point, base: base.digest, instruction: instr.original }, workdir) };
        exec = () => applyWorkdir(ctx, state, workdir);
      } else {
        // Resolved once, sources selected and digested once: the key is made of exactly what the copy reads.
        const copy = resolveCopy(instr, { config: state.config, args }, locationOf(instr.location));
        const sources = await copySources({ contextDir: env.session.contextDir, ignore: env.session.ignore, memo: env.session.memo, fromSource: ctx.fromSource }, copy, locationOf(instr.location));
        // A URL source is known only once fetched: such a step is not cached.
        probe = sources.content && { key: copyKey({ ...point, copy, content: sources.content }), inputs: fileStepInputs({ ...point, base: base.digest, instruction: writtenInstruction(instr) }, copy, sources) };
        exec = () => applyCopy(ctx, state, instr.location, { copy, sources });
      }
      inputs = probe;
      const sid = stepIdentity(env.session.dockerfilePath, stage.index, index, platform);
      // Ends this build's claim to be the one running the step (see inflight-steps.ts).
      let ran: (() => void) | undefined;
      if (probe && env.useCache) {
        const parent = state.layers.at(-1)?.chainId ?? null;
        for (;;) {
          // The same step running in another platform's build (a
          // $BUILDPLATFORM stage): wait for its record instead of running it
          // twice. No job slot is held meanwhile, so --jobs 1 cannot deadlock.
          const other = env.session.inflight.running(probe.key);
          if (other) {
            await other;
            // The build is stopping (that run may have failed and stopped it): so does this step.
            // Otherwise its record is read below; if it failed, there is none and this build runs the step.
            if (env.session.stop.signal.aborted) throw new KilnError("INTERRUPTED", "build interrupted");
          }
          const rec = await env.session.records.get(probe.key);
          const chainId = rec?.diffId ? chainIdOf(parent, rec.diffId) : null;
          if (rec && (await env.claim(parent, rec.diffId))) {
            keys.push(rec.key);
            await env.session.records.touch(rec.key, sid);
            cached++;
            hit = true;
            const patched = { ...state, config: { ...state.config, ...(rec.configPatch ?? {}) } };
            return { ...withLayer(patched, rec.diffId && chainId ? { diffId: rec.diffId, chainId } : null, rec.history), cachedStep: true };
          }
          // A miss, and nobody started the step while the cache was read:
          // this build runs it. (No await between this check and start().)
          if (!env.session.inflight.running(probe.key)) break;
        }
        ran = env.session.inflight.start(probe.key);
      }
      try {
        if (probe && env.useCache) {
          const prev = await env.session.records.previous(sid);
          if (prev || env.explainAll) env.session.emit({ kind: "cache-miss", id, reason: explainMiss(instr.original, prev, probe.inputs) });
        }
        executed++;
        const next = await env.session.jobs.run(async () => exec());
        if (probe) {
          keys.push(probe.key);
          const grew = next.layers.length > state.layers.length;
          await env.session.records.put(
            {
              version: 1,
              key: probe.key,
              inputs: probe.inputs,
              diffId: grew ? next.layers.at(-1)!.diffId : null,
              history: next.history.at(-1)!,
              configPatch: configPatch(state.config, next.config),
            },
            sid,
          );
        }
        return next;
      } finally {
        // After the record is written: a waiter that wakes up finds it.
        ran?.();
      }
    });
    trace.push({
      stage: stage.index,
      ...(stage.name !== undefined ? { stageName: stage.name } : {}),
      instruction: instr.original,
      line: instr.location.line,
      cached: hit,
      ...(inputs ? { key: inputs.key } : {}),
      ...(state.layers.length > before ? { layer: state.layers.at(-1)!.diffId } : {}),
      ...(inputs?.inputs.files ? { files: inputs.inputs.files } : {}),
      ...(inputs?.inputs.from ? { from: inputs.inputs.from } : {}),
    });
  }
  return { state: stripMarks(state), executed, cached, keys, trace };
}

type Marked = ImageState & { cachedStep?: boolean };

function stripMarks(s: Marked): ImageState {
  const { cachedStep: _ignored, ...rest } = s;
  return rest;
}

/**
 * Timing and error location for one step, and its progress events when it
 * is a shown step (`name`); config-only steps run silently, as in BuildKit.
 */
export async function runStep(
  env: Pick<StageEnv, "session">,
  instr: { location: Location },
  name: string | undefined,
  fn: (id: number) => Promise<Marked>,
): Promise<ImageState> {
  if (env.session.stop.signal.aborted) throw new KilnError("INTERRUPTED", "build interrupted");
  const id = name === undefined ? 0 : env.session.nextEventId();
  const emit = name === undefined ? () => {} : env.session.emit;
  const started = performance.now();
  if (name !== undefined) emit({ kind: "step-start", id, name });
  try {
    const { result: r, phases } = await withPhases(() => fn(id));
    emit({ kind: "step-done", id, ms: performance.now() - started, ...(r.cachedStep ? { note: "CACHED" } : {}), ...(phases.length ? { phases } : {}) });
    return stripMarks(r);
  } catch (err) {
    emit({ kind: "step-failed", id, ms: performance.now() - started });
    throw withLocation(err, instr.location);
  }
}

function withLocation(err: unknown, location: Location): unknown {
  if (!(err instanceof KilnError) || err.location) return err;
  return new KilnError(err.code, err.message, { location: locationOf(location), ...(err.hint ? { hint: err.hint } : {}), cause: err.cause });
}

function stepContext(env: StageEnv, id: number, created: string, args: ReadonlyMap<string, string | undefined>): StepContext {
  return {
    stepId: id,
    layerEnv: { snapshots: env.session.snapshots, tmpDir: env.session.store.paths.tmp, ...(env.sourceDateEpoch !== undefined ? { sourceDateEpoch: env.sourceDateEpoch } : {}), ...(env.ensureChain ? { ensureChain: env.ensureChain } : {}) },
    contextDir: env.session.contextDir,
    ignore: env.session.ignore,
    network: env.exec.network,
    runtime: env.exec.runtime,
    ...(env.exec.runtimeSearchPath !== undefined ? { runtimeSearchPath: env.exec.runtimeSearchPath } : {}),
    created,
    log: (stream, data) => env.session.emit({ kind: "step-log", id, stream, data }),
    args,
    proxyEnv: env.args.proxyEnv,
    ...(env.session.stop.signal ? { signal: env.session.stop.signal } : {}),
    ...(env.exec.secrets ? { secrets: env.exec.secrets } : {}),
    ...(env.exec.sshSources ? { sshSources: env.exec.sshSources } : {}),
    ...(env.exec.sandbox ? { sandbox: env.exec.sandbox } : {}),
  };
}

/**
 * ARG pairs are declared one after the other, each default seeing the ones
 * before it (BuildKit's dispatchArg updates the state per pair). A
 * --build-arg value replaces the default unexpanded, so a default such as
 * ${FOO:?missing} only fails when it is the value used.
 */
function declareArgs(env: StageEnv, args: Map<string, string | undefined>, decls: readonly { name: string; default?: string }[], imageEnv: readonly string[] | undefined): void {
  for (const a of decls) {
    const fromCli = env.args.buildArgs.get(a.name);
    if (fromCli !== undefined) {
      env.args.usedArgs.add(a.name);
      args.set(a.name, fromCli);
      continue;
    }
    // The stage's own ARGs, then ENV: ARGs before FROM are not in scope until redeclared.
    const lookup = (n: string) => args.get(n) ?? envLookup(imageEnv, n);
    args.set(a.name, a.default !== undefined ? expandWord(a.default, lookup) : env.args.metaArgs.get(a.name));
  }
}

/** Config fields a filesystem step changed (WORKDIR sets WorkingDir). */
function configPatch(before: ContainerConfig, after: ContainerConfig): Partial<ContainerConfig> | undefined {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(after) as (keyof ContainerConfig)[]) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) patch[k] = after[k];
  }
  return Object.keys(patch).length ? (patch as Partial<ContainerConfig>) : undefined;
}

type LayerInstruction = Extract<Instruction, { kind: "run" | "copy" | "add" | "workdir" }>;

/** The steps that may change the filesystem: each is resolved, keyed and cached (see runStage). */
function isLayerInstruction(i: Instruction): i is LayerInstruction {
  return i.kind === "run" || i.kind === "copy" || i.kind === "add" || i.kind === "workdir";
}

/** The metadata instructions; RUN, COPY, ADD and WORKDIR run as resolved steps (see runStage). */
export function applyInstruction(ctx: StepContext, state: ImageState, instr: Exclude<Instruction, LayerInstruction>): Promise<ImageState> | ImageState {
  switch (instr.kind) {
    case "env":
    case "label":
    case "expose":
    case "volume":
    case "entrypoint":
    case "cmd":
    case "shell":
    case "stopsignal":
    case "user":
      return applyMetadata(ctx, state, instr);
    case "healthcheck":
      return applyHealthcheck(ctx, state, instr);
    case "onbuild":
      return applyOnbuild(ctx, state, instr);
    case "maintainer":
      return applyMaintainer(ctx, state, instr);
    default:
      throw new KilnError("UNSUPPORTED", `${instr.kind.toUpperCase()} is not supported yet`, { location: locationOf(instr.location) });
  }
}
