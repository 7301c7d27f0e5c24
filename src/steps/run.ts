// RUN: the command in a container over the step's overlay rootfs.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import type { ExtraMount } from "../exec/runtime-spec.js";
import type { Confinement } from "../exec/sandbox.js";
import type { SourceLocation } from "../util/errors.js";
import type { Location } from "../dockerfile/types.js";
import { runContainer } from "../exec/run-container.js";
import { ensureEmulation } from "../exec/emulation.js";
import { resolveUser } from "../exec/user.js";
import { ensureDir } from "./copy-into-root.js";
import { KilnError } from "../util/errors.js";
import { withLayer, type ImageState } from "../image/image-state.js";
import { runLayerStep } from "../snapshot/layer-step.js";
import type { ResolvedRun } from "../plan/resolve-run.js";
import type { MountSource } from "./run-mount-sources.js";
import { historyFor, locationOf, type StepContext } from "./step-context.js";
import { prepareMounts } from "./run-mounts.js";

/** A RUN as the builder resolved it: what the cache key was made of, and nothing else, runs. */
export interface RunStep {
  readonly run: ResolvedRun;
  /** Per mount, what a bind mount reads (run-mount-sources.ts). */
  readonly sources: readonly (MountSource | undefined)[];
}

export async function applyRun(ctx: StepContext, state: ImageState, location: Location, step: RunStep): Promise<ImageState> {
  const loc = locationOf(location);
  const { run } = step;
  const args = [...run.args];
  const confinement = confinementOf(ctx, run, loc);
  const out = (stream: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        ctx.log(stream, chunk);
        cb();
      },
    });
  const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
    // A foreign platform runs under qemu-user: say so clearly when it cannot.
    await ensureEmulation(state.platform).catch((e: unknown) => {
      throw e instanceof KilnError ? new KilnError(e.code, e.message, { location: loc, ...(e.hint ? { hint: e.hint } : {}) }) : e;
    });
    const user = await resolveUser(rootfs, run.user);
    await ensureDir(rootfs, run.cwd, { uid: 0, gid: 0 });
    const prepared = await prepareMounts(ctx, run.mounts, step.sources, loc);
    const scriptMount = run.script ? await writeScript(ctx, run.script) : undefined;
    try {
    const { exitCode } = await runContainer({
      rootfs,
      process: { args, env: [...run.env, ...run.proxyEnv, ...prepared.env], cwd: run.cwd, user },
      mounts: [...prepared.mounts, ...(scriptMount ? [scriptMount.mount] : [])],
      network: run.network,
      ...(run.hostname !== undefined ? { hostname: run.hostname } : {}),
      ...(run.extraHosts ? { extraHosts: run.extraHosts } : {}),
      confinement,
      ...(run.limits ? { limits: run.limits } : {}),
      runtime: ctx.runtime,
      stateDir: ctx.layerEnv.tmpDir,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.runtimeSearchPath !== undefined ? { searchPath: ctx.runtimeSearchPath } : {}),
      stdout: out("stdout"),
      stderr: out("stderr"),
    });
    if (exitCode !== 0) {
      throw new KilnError(
        "RUN_FAILED",
        `process "${args.join(" ")}" did not complete successfully: exit code ${exitCode}`,
        // Without a network a download fails in ways that do not say why.
        { location: loc, ...(run.network === "none" ? { hint: `the step ran with network "none" (no network access); if it needs one, drop ${ctx.network === "none" ? "--network=none" : "RUN --network=none"}` } : {}) },
      );
    }
    } finally {
      await prepared.cleanup();
      await scriptMount?.cleanup();
    }
  });
  return withLayer(state, layer, historyFor(ctx, run.createdBy));
}

/**
 * RUN --security: the sandbox (Docker's capabilities and seccomp profile,
 * unless the build said --security-opt seccomp=unconfined), or, only when
 * the build granted it with --allow security.insecure, BuildKit's insecure
 * mode.
 */
function confinementOf(ctx: Pick<StepContext, "sandbox">, run: Pick<ResolvedRun, "security" | "seccomp">, loc: SourceLocation): Confinement {
  if (run.security === "sandbox") return { mode: "sandbox", seccomp: run.seccomp ?? true };
  if (!ctx.sandbox?.allowInsecure) {
    throw new KilnError("INSECURE_NOT_ALLOWED", "RUN --security=insecure is not allowed: the build did not grant security.insecure", {
      location: loc,
      hint: "if this Dockerfile may run the step with every capability and no seccomp filter, build with --allow security.insecure",
    });
  }
  return { mode: "insecure", seccomp: false };
}

/** A heredoc script as an executable file, bound read-only inside /dev (never in the rootfs). */
async function writeScript(ctx: StepContext, file: { name: string; content: string }): Promise<{ mount: ExtraMount; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(ctx.layerEnv.tmpDir, `heredoc-${process.pid}-`));
  const host = path.join(dir, "script");
  await writeFile(host, file.content);
  await chmod(host, 0o755);
  return {
    mount: { kind: "bind", source: host, destination: `/dev/pipes/${file.name}`, readonly: true, file: true },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
