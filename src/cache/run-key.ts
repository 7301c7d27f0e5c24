// The cache key of a RUN: the canonical encoding of the resolved step
// (plan/resolve-run.ts), the value the executor runs, so that key and
// execution cannot disagree (BuildKit: the key is the digest of the op).
// Every field that reaches the runtime spec or the filesystem is here;
// test/cache/run-key.test.ts mutates each one and pins a golden key.
// v2: RUN keys used to be the instruction text plus the config (v1, key.ts),
// which missed the network mode and the content of --mount=from= sources.
import { canonicalJson } from "../store/canonical-json.js";
import type { ResolvedRun } from "../plan/resolve-run.js";
import type { Digest } from "../oci/digest.js";
import type { RunInstruction } from "../dockerfile/types.js";
import type { StepPoint } from "./copy-key.js";
import { digestFields } from "./key.js";
import { writtenInstruction, type StepInputs } from "./records.js";

export const RUN_KEY_VERSION = "kiln.cache.run.v2";

export interface RunKeyInput {
  /** chainID of the rootfs the step runs on ("" for an empty rootfs). */
  readonly chainId: string;
  readonly platform: string;
  /** SOURCE_DATE_EPOCH the layer is clamped to ("" when none). */
  readonly epoch: string;
  readonly run: ResolvedRun;
  /** Per mount, the content digest of what a bind mount reads ("" for other mounts). */
  readonly mountContent: readonly string[];
}

const list = (name: string, xs: readonly string[]): string[] => [name, String(xs.length), ...xs];

export function runKey(input: RunKeyInput): Digest {
  const r = input.run;
  return digestFields([
    RUN_KEY_VERSION,
    input.chainId,
    input.platform,
    input.epoch,
    ...list("args", r.args),
    ...(r.script ? ["script", r.script.name, r.script.content] : ["no-script"]),
    ...list("env", r.env),
    r.cwd,
    r.user,
    r.network,
    ...(r.extraHosts ? list("extra-hosts", r.extraHosts.map((h) => `${h.name} ${h.ip}`)) : []),
    // BuildKit keys the exec's hostname too; only when given, like the fields below.
    ...(r.hostname !== undefined ? ["hostname", r.hostname] : []),
    r.security,
    // Only when given: keys of builds without them are unchanged.
    ...(r.seccomp === false ? ["seccomp=unconfined"] : []),
    ...(r.limits ? ["limits", canonicalJson(r.limits)] : []),
    r.createdBy,
    ...list("mounts", r.mounts.map((m, i) => `${canonicalJson(m)}\n${input.mountContent[i] ?? ""}`)),
  ]);
}

/** What a bind mount reads, as the key and a miss explanation need it. */
export interface MountContent {
  readonly digest: string;
  /** Context files (bind mounts of the context), to explain a miss. */
  readonly files?: Readonly<Record<string, string>>;
  /** A mount of another stage, image or named context: its name. */
  readonly name?: string;
}

/** The key of a resolved RUN and the inputs kept to explain a later miss. */
export function runInputs(
  point: StepPoint & { readonly base: string; readonly args: ReadonlyMap<string, string | undefined> },
  instr: RunInstruction,
  run: ResolvedRun,
  content: readonly (MountContent | undefined)[],
): { key: Digest; inputs: StepInputs } {
  const { chainId, platform, epoch } = point;
  const key = runKey({ chainId, platform, epoch, run, mountContent: content.map((c) => c?.digest ?? "") });
  const instruction = writtenInstruction(instr);
  const args = Object.fromEntries([...point.args].filter((e): e is [string, string] => e[1] !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const config = { Env: run.env, User: run.user, WorkingDir: run.cwd, Command: run.args, Network: run.network, Security: run.security, Mounts: run.mounts };
  const files: Record<string, string> = {};
  for (const c of content) Object.assign(files, c?.files ?? {});
  const from = content.flatMap((c) => (c?.name !== undefined ? [`from:${c.name}:${c.digest}`] : [])).join(";");
  const inputs: StepInputs = { instruction, platform, chainId, base: point.base, config, args, epoch, ...(Object.keys(files).length ? { files } : {}), ...(from ? { from } : {}) };
  return { key, inputs };
}
