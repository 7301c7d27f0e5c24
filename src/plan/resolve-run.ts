// A RUN instruction, in its stage and with the image config it runs on,
// turned into the one value that both the cache key (cache/run-key.ts) and
// the executor (steps/run.ts) consume: the argv, environment, user,
// working directory, network and security mode, and every mount with its
// values expanded. Pure: no I/O. What a bind mount reads (the context, a
// stage, an image) is named here; its content digest is computed by the
// builder, which has the filesystems.
import type { RunInstruction } from "../dockerfile/types.js";
import { resolveMount, type RunMount } from "../dockerfile/run-flags.js";
import type { RunSecurity } from "../dockerfile/types.js";
import type { ExtraHost, NetworkMode } from "../exec/runtime-spec.js";
import type { ProcessLimits, SandboxOptions } from "../exec/sandbox.js";
import { DEFAULT_PATH, envLookup, type ContainerConfig } from "../oci/config.js";

export const DEFAULT_SHELL: readonly string[] = ["/bin/sh", "-c"];

export interface ResolvedRun {
  /** The process's argv (shell form: the shell, its flag and the command line). */
  readonly args: readonly string[];
  /** `RUN <<EOF` with a `#!` body: the script bound at /dev/pipes/NAME. */
  readonly script?: { readonly name: string; readonly content: string };
  /** Image ENV (PATH defaulted), then the stage's ARGs that ENV does not shadow. */
  readonly env: readonly string[];
  /**
   * HTTP_PROXY & co. from --build-arg, for the process only. Not part of the
   * cache key, as in BuildKit (a proxy does not change what a step makes).
   */
  readonly proxyEnv: readonly string[];
  readonly cwd: string;
  /** The USER in effect, as written in the config (the rootfs's /etc/passwd resolves it). */
  readonly user: string;
  readonly network: NetworkMode;
  /** --add-host lines of the step's /etc/hosts (absent when none). */
  readonly extraHosts?: readonly ExtraHost[];
  /** The sandbox's hostname (--build-arg BUILDKIT_SANDBOX_HOSTNAME; absent: buildkitsandbox). */
  readonly hostname?: string;
  readonly security: RunSecurity;
  /** --security-opt seccomp=unconfined (absent: Docker's profile). */
  readonly seccomp?: false;
  /** --ulimit, --shm-size, --pids-limit (absent when none was given). */
  readonly limits?: ProcessLimits;
  readonly mounts: readonly RunMount[];
  /** The image history's created_by for this step. */
  readonly createdBy: string;
}

export interface RunScope {
  readonly config: ContainerConfig;
  /** ARGs declared in this stage so far (undefined: declared without a value). */
  readonly args: ReadonlyMap<string, string | undefined>;
  readonly proxyEnv: readonly string[];
  /** The build's network (--network), for RUN without its own. */
  readonly network: NetworkMode;
  readonly extraHosts?: readonly ExtraHost[];
  readonly hostname?: string;
  /** The build's seccomp choice and process limits. */
  readonly sandbox?: Pick<SandboxOptions, "seccomp" | "limits">;
}

export function resolveRun(instr: RunInstruction, scope: RunScope): ResolvedRun {
  const c = scope.config;
  const vars = (n: string) => envLookup(c.Env, n) ?? scope.args.get(n);
  const cwd = c.WorkingDir || "/";
  const env = [...(c.Env ?? [])];
  if (envLookup(env, "PATH") === undefined) env.unshift(`PATH=${DEFAULT_PATH}`);
  for (const [k, v] of scope.args) if (v !== undefined && envLookup(env, k) === undefined) env.push(`${k}=${v}`);
  const proxyEnv = scope.proxyEnv.filter((kv) => envLookup(env, kv.slice(0, kv.indexOf("="))) === undefined);
  const n = instr.flags.network;
  const { args, script } = runCommand(c.Shell ?? DEFAULT_SHELL, instr);
  return {
    args,
    ...(script ? { script } : {}),
    env,
    proxyEnv,
    cwd,
    user: c.User ?? "",
    network: n === undefined || n === "default" ? scope.network : n,
    ...(scope.extraHosts?.length ? { extraHosts: scope.extraHosts } : {}),
    ...(scope.hostname !== undefined ? { hostname: scope.hostname } : {}),
    security: instr.flags.security ?? "sandbox",
    ...(scope.sandbox?.seccomp === false ? { seccomp: false as const } : {}),
    ...(scope.sandbox?.limits && Object.keys(scope.sandbox.limits).length ? { limits: scope.sandbox.limits } : {}),
    mounts: instr.flags.mounts.map((m) => resolveMount(m, vars, cwd, instr.location)),
    createdBy: instr.form === "exec" ? `RUN ${JSON.stringify(args)} # buildkit` : `RUN ${args.join(" ")} # buildkit`,
  };
}

/**
 * The command RUN executes, with BuildKit's heredoc rules: `RUN <<EOF`
 * alone runs the body with the shell (or, when it starts with `#!`, as an
 * executable script mounted at /dev/pipes/NAME); anything else
 * (`RUN python3 <<EOF`, several heredocs) goes to the shell whole, command
 * line and bodies, and the shell does the redirection and expansion.
 */
function runCommand(shell: readonly string[], instr: RunInstruction): { args: string[]; script?: { name: string; content: string } } {
  if (instr.form === "exec") return { args: [...instr.args] };
  const docs = instr.heredocs ?? [];
  if (docs.length === 0) return { args: [...shell, instr.command] };
  const first = docs[0]!;
  if (/^[0-9]*<<-?\s*["']?[^\s"']+["']?$/.test(instr.command.trim())) {
    if (first.content.startsWith("#!")) return { args: [...shell, `/dev/pipes/${first.name}`], script: { name: first.name, content: first.content } };
    return { args: [...shell, first.content] };
  }
  let full = instr.command;
  for (const d of docs) full += `\n${d.content}${d.name}`;
  return { args: [...shell, full] };
}
