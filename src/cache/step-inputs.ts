// What a filesystem step consumes, gathered before it runs: the rootfs it
// starts from (chainID), the config fields that change its result, the
// variables it can see, and for COPY/ADD (and RUN bind mounts of the
// context) the exact content it will read. Secrets never enter: only a
// secret's id is part of the instruction text.
import { selectSources, type SelectedSource } from "../context/select-sources.js";
import type { IgnoreMatcher } from "../context/dockerignore.js";
import { expandWord } from "../dockerfile/expand.js";
import type { Instruction } from "../dockerfile/types.js";
import { formatPlatform } from "../oci/platform.js";
import { envLookup } from "../oci/config.js";
import type { ImageState } from "../image/image-state.js";
import { digestSources } from "./content-digest.js";
import { stepKey } from "./key.js";
import { runKey } from "./run-key.js";
import type { ResolvedRun } from "../plan/resolve-run.js";
import type { StepInputs } from "./records.js";
import type { StatMemo } from "./stat-memo.js";
import type { Digest } from "../oci/digest.js";

export type LayerInstruction = Extract<Instruction, { kind: "run" | "copy" | "add" | "workdir" }>;
/** The layer steps keyed by stepKey (v1); RUN is keyed by runKey over its resolved step. */
export type FileInstruction = Exclude<LayerInstruction, { kind: "run" }>;

export function isLayerInstruction(i: Instruction): i is LayerInstruction {
  return i.kind === "run" || i.kind === "copy" || i.kind === "add" || i.kind === "workdir";
}

export interface InputsEnv {
  readonly contextDir: string;
  readonly ignore: IgnoreMatcher;
  readonly memo: StatMemo;
  readonly args: ReadonlyMap<string, string | undefined>;
  readonly base: string;
  readonly sourceDateEpoch?: number;
  /** chainID of an earlier stage's or an image's filesystem (COPY --from): it is the whole input. */
  readonly fromChain?: (name: string) => Promise<string>;
}

/** undefined: the step cannot be cached (its input is not known before it runs). */
export async function stepInputs(env: InputsEnv, state: ImageState, instr: FileInstruction): Promise<{ key: Digest; inputs: StepInputs } | undefined> {
  const c = state.config;
  const vars = (n: string) => envLookup(c.Env, n) ?? env.args.get(n);
  const heredocs = instr.kind === "workdir" ? undefined : instr.heredocs;
  const instruction = instr.original + (heredocs?.length ? `\n${heredocs.map((h) => `<<${h.name}\n${h.content}`).join("\n")}` : "");
  const argsInScope = [...env.args].filter((e): e is [string, string] => e[1] !== undefined);
  let args: [string, string][];
  let config: Record<string, unknown>;
  let selected: SelectedSource[] = [];
  let fromContent: string | undefined;
  {
    // COPY/ADD/WORKDIR: only the variables they mention, and what resolves their paths.
    // Names come from the Dockerfile and the base image's Env: escaped, so `ARG a(b` cannot break the regexp.
    const mentioned = (name: string) => new RegExp(`\\$\\{?${name.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")}\\b`).test(instruction);
    args = argsInScope.filter(([k]) => mentioned(k));
    const env2 = (c.Env ?? []).filter((e) => mentioned(e.split("=", 1)[0]!));
    config = { Env: env2, WorkingDir: c.WorkingDir ?? "", ...(instr.kind === "workdir" ? { User: c.User ?? "" } : {}) };
    if (instr.kind !== "workdir") {
      if (instr.kind === "copy" && instr.from !== undefined) {
        if (!env.fromChain) return undefined;
        fromContent = `from:${instr.from}:${await env.fromChain(instr.from)}`;
      }
      for (const raw of instr.kind === "copy" && instr.from !== undefined ? [] : instr.sources) {
        const src = expandWord(raw, vars);
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) return undefined; // a URL: known only once fetched
        selected.push(...(await selectSources(env.contextDir, src, env.ignore)));
      }
    }
  }
  args.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const content = selected.length ? await digestSources(selected, env.ignore, env.memo) : undefined;
  const chainId = state.layers.at(-1)?.chainId ?? "";
  const platform = formatPlatform(state.platform);
  const epoch = env.sourceDateEpoch !== undefined ? String(env.sourceDateEpoch) : "";
  const key = stepKey({ chainId, platform, instruction, config: JSON.stringify(config), args, content: fromContent ?? content?.digest ?? "", epoch });
  const inputs: StepInputs = { instruction, platform, chainId, base: env.base, config, args: Object.fromEntries(args), epoch, ...(content ? { files: content.files } : {}), ...(fromContent ? { from: fromContent } : {}) };
  return { key, inputs };
}

export interface RunInputsEnv {
  readonly args: ReadonlyMap<string, string | undefined>;
  readonly base: string;
  readonly sourceDateEpoch?: number;
}

/** What a bind mount reads, as the key and a miss explanation need it. */
export interface MountContent {
  readonly digest: string;
  /** Context files (bind mounts of the context), to explain a miss. */
  readonly files?: Readonly<Record<string, string>>;
  /** A mount of another stage, image or named context: its name. */
  readonly name?: string;
}

/** The key of a resolved RUN (run-key.ts) and the inputs kept to explain a later miss. */
export function runInputs(env: RunInputsEnv, state: ImageState, instr: Extract<Instruction, { kind: "run" }>, run: ResolvedRun, content: readonly (MountContent | undefined)[]): { key: Digest; inputs: StepInputs } {
  const chainId = state.layers.at(-1)?.chainId ?? "";
  const platform = formatPlatform(state.platform);
  const epoch = env.sourceDateEpoch !== undefined ? String(env.sourceDateEpoch) : "";
  const key = runKey({ chainId, platform, epoch, run, mountContent: content.map((c) => c?.digest ?? "") });
  const heredocs = instr.heredocs;
  const instruction = instr.original + (heredocs?.length ? `\n${heredocs.map((h) => `<<${h.name}\n${h.content}`).join("\n")}` : "");
  const args = Object.fromEntries([...env.args].filter((e): e is [string, string] => e[1] !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const config = { Env: run.env, User: run.user, WorkingDir: run.cwd, Command: run.args, Network: run.network, Security: run.security, Mounts: run.mounts };
  const files: Record<string, string> = {};
  for (const c of content) Object.assign(files, c?.files ?? {});
  const from = content.flatMap((c) => (c?.name !== undefined ? [`from:${c.name}:${c.digest}`] : [])).join(";");
  const inputs: StepInputs = { instruction, platform, chainId, base: env.base, config, args, epoch, ...(Object.keys(files).length ? { files } : {}), ...(from ? { from } : {}) };
  return { key, inputs };
}
