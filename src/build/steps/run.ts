// RUN: the command in a container over the step's overlay rootfs.
import { Writable } from "node:stream";
import type { RunInstruction } from "../../dockerfile/types.js";
import { runContainer } from "../../exec/run-container.js";
import { resolveUser } from "../../exec/user.js";
import { ensureDir } from "../../fsutil/copy-into-root.js";
import { DEFAULT_PATH, envLookup } from "../../oci/config.js";
import { KilnError } from "../../util/errors.js";
import { withLayer, type ImageState } from "../image-state.js";
import { runLayerStep } from "../layer-step.js";
import { historyFor, locationOf, type StepContext } from "../step-context.js";
import { commandArgs } from "./metadata.js";

export async function applyRun(ctx: StepContext, state: ImageState, instr: RunInstruction): Promise<ImageState> {
  const unsupported = instr.flags.mount?.length ? "--mount" : instr.heredocs?.length ? "heredocs" : undefined;
  if (unsupported) {
    throw new KilnError("UNSUPPORTED", `RUN ${unsupported} is not supported yet`, { location: locationOf(instr.location) });
  }
  const network = instr.flags.network === "host" ? "host" : instr.flags.network === "none" ? "none" : ctx.network;
  const args = commandArgs(state, instr);
  const env = runEnv(ctx, state);
  const cwd = state.config.WorkingDir || "/";
  const out = (stream: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        ctx.emit({ kind: "step-log", id: ctx.stepId, stream, data: chunk });
        cb();
      },
    });
  const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
    const user = await resolveUser(rootfs, state.config.User);
    await ensureDir(rootfs, cwd, { uid: 0, gid: 0 });
    const { exitCode } = await runContainer({
      rootfs,
      process: { args, env, cwd, user },
      network,
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
        { location: locationOf(instr.location) },
      );
    }
  });
  const createdBy = instr.form === "exec" ? `RUN ${JSON.stringify(args)} # buildkit` : `RUN ${args.join(" ")} # buildkit`;
  return withLayer(state, layer, historyFor(ctx, createdBy));
}

/** Image ENV, then the stage's ARGs that ENV does not shadow (not persisted). */
export function runEnv(ctx: Pick<StepContext, "args">, state: ImageState): string[] {
  const env = [...(state.config.Env ?? [])];
  if (envLookup(env, "PATH") === undefined) env.unshift(`PATH=${DEFAULT_PATH}`);
  for (const [k, v] of ctx.args) if (v !== undefined && envLookup(env, k) === undefined) env.push(`${k}=${v}`);
  return env;
}
