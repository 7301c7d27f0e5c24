// RUN: the command in a container over the step's overlay rootfs.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import type { ExtraMount, NetworkMode } from "../../exec/runtime-spec.js";
import type { SourceLocation } from "../../util/errors.js";
import type { RunInstruction } from "../../dockerfile/types.js";
import { runContainer } from "../../exec/run-container.js";
import { ensureEmulation } from "../../exec/emulation.js";
import { resolveUser } from "../../exec/user.js";
import { ensureDir } from "../../fsutil/copy-into-root.js";
import { DEFAULT_PATH, envLookup } from "../../oci/config.js";
import { KilnError } from "../../util/errors.js";
import { withLayer, type ImageState } from "../image-state.js";
import { runLayerStep } from "../layer-step.js";
import { historyFor, locationOf, varsOf, type StepContext } from "../step-context.js";
import { commandArgs, shellOf } from "./metadata.js";
import { parseMount, prepareMounts } from "./run-mounts.js";

export async function applyRun(ctx: StepContext, state: ImageState, instr: RunInstruction): Promise<ImageState> {
  const loc = locationOf(instr.location);
  const network = networkOf(ctx, instr, loc);
  const cwd = state.config.WorkingDir || "/";
  const vars = varsOf(ctx, state);
  const specs = (instr.flags.mount ?? []).map((m) => parseMount(m, vars, cwd, loc));
  const script = heredocScript(state, instr);
  const args = script.args;
  const env = runEnv(ctx, state);
  const out = (stream: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        ctx.emit({ kind: "step-log", id: ctx.stepId, stream, data: chunk });
        cb();
      },
    });
  const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
    // A foreign platform runs under qemu-user: say so clearly when it cannot.
    await ensureEmulation(state.platform).catch((e: unknown) => {
      throw e instanceof KilnError ? new KilnError(e.code, e.message, { location: loc, ...(e.hint ? { hint: e.hint } : {}) }) : e;
    });
    const user = await resolveUser(rootfs, state.config.User);
    await ensureDir(rootfs, cwd, { uid: 0, gid: 0 });
    const prepared = await prepareMounts(ctx, specs, loc);
    const scriptMount = script.file ? await writeScript(ctx, script.file) : undefined;
    try {
    const { exitCode } = await runContainer({
      rootfs,
      process: { args, env: [...env, ...prepared.env], cwd, user },
      mounts: [...prepared.mounts, ...(scriptMount ? [scriptMount.mount] : [])],
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
        { location: loc },
      );
    }
    } finally {
      await prepared.cleanup();
      await scriptMount?.cleanup();
    }
  });
  const createdBy = instr.form === "exec" ? `RUN ${JSON.stringify(args)} # buildkit` : `RUN ${args.join(" ")} # buildkit`;
  return withLayer(state, layer, historyFor(ctx, createdBy));
}

/** Image ENV, then the stage's ARGs that ENV does not shadow (not persisted). */
export function runEnv(ctx: Pick<StepContext, "args" | "proxyEnv">, state: ImageState): string[] {
  const env = [...(state.config.Env ?? [])];
  if (envLookup(env, "PATH") === undefined) env.unshift(`PATH=${DEFAULT_PATH}`);
  for (const [k, v] of ctx.args) if (v !== undefined && envLookup(env, k) === undefined) env.push(`${k}=${v}`);
  for (const kv of ctx.proxyEnv ?? []) if (envLookup(env, kv.slice(0, kv.indexOf("="))) === undefined) env.push(kv);
  return env;
}

function networkOf(ctx: StepContext, instr: RunInstruction, loc: SourceLocation): NetworkMode {
  const n = instr.flags.network;
  if (n === undefined || n === "default") return ctx.network;
  if (n === "none" || n === "host") return n;
  throw new KilnError("INVALID_NETWORK", `RUN --network=${n}: expected none, host or default`, { location: loc });
}

/**
 * The command RUN executes, with BuildKit's heredoc rules: `RUN <<EOF`
 * alone runs the body with the shell (or, when it starts with `#!`, as an
 * executable script mounted at /dev/pipes/NAME); anything else
 * (`RUN python3 <<EOF`, several heredocs) goes to the shell whole, command
 * line and bodies, and the shell does the redirection and expansion.
 */
export function heredocScript(state: ImageState, instr: RunInstruction): { args: string[]; file?: { name: string; content: string } } {
  const docs = instr.heredocs ?? [];
  if (instr.form !== "shell" || docs.length === 0) return { args: commandArgs(state, instr) };
  const first = docs[0]!;
  if (/^[0-9]*<<-?\s*["']?[^\s"']+["']?$/.test(instr.command.trim())) {
    if (first.content.startsWith("#!")) {
      return { args: [...shellOf(state), `/dev/pipes/${first.name}`], file: { name: first.name, content: first.content } };
    }
    return { args: [...shellOf(state), first.content] };
  }
  let full = instr.command;
  for (const d of docs) full += `\n${d.content}${d.name}`;
  return { args: [...shellOf(state), full] };
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
