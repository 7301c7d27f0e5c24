// RUN's flags as typed values, read once with BuildKit's rules
// (frontend/dockerfile/instructions: commands_runmount.go, runnetwork,
// runsecurity). Parsing checks what needs no variables: mount keys
// (case-insensitive, "did you mean" for a misspelt one), `from` (never
// expanded), --network and --security. resolveMount() then expands a
// mount's values with the step's variables and types them; a mount whose
// values have no `$` is also resolved at parse time so that its errors
// come before any step runs.
import path from "node:path";
import { KilnError } from "../util/errors.js";
import { expandWord, type VarLookup } from "./expand.js";
import { didYouMean } from "./suggest.js";
import type { Location, MountField, MountFlag, MountKey, RunFlags, RunNetwork, RunSecurity } from "./types.js";

export type MountType = RunMount["type"];
export type CacheSharing = "shared" | "private" | "locked";

/** A mount with every value expanded and typed: what the step keys and runs. */
export type RunMount =
  | { readonly type: "bind"; readonly target: string; readonly source: string; readonly from?: string; readonly readonly: boolean }
  | {
      readonly type: "cache";
      readonly target: string;
      readonly id: string;
      readonly sharing: CacheSharing;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly readonly: boolean;
    }
  | { readonly type: "tmpfs"; readonly target: string; readonly size?: number }
  | {
      readonly type: "secret";
      /** "" with env= and no target: the secret is only an environment variable. */
      readonly target: string;
      readonly id: string;
      readonly env?: string;
      readonly required: boolean;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
    }
  | {
      readonly type: "ssh";
      /** "" when not given: the step numbers it (/run/buildkit/ssh_agent.N, as BuildKit). */
      readonly target: string;
      readonly id: string;
      readonly required: boolean;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
    };

const MOUNT_TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING = ["shared", "private", "locked"];
/** The keys BuildKit lists in its suggestion (aliases included), plus kiln's env=. */
const ALL_KEYS = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "mode", "uid", "gid", "src", "dst", "ro", "rw", "readwrite", "size", "env", "destination"];
const ALIASES: Readonly<Record<string, MountKey>> = {
  type: "type",
  from: "from",
  source: "source",
  src: "source",
  target: "target",
  dst: "target",
  destination: "target",
  readonly: "readonly",
  ro: "readonly",
  readwrite: "readwrite",
  rw: "readwrite",
  id: "id",
  sharing: "sharing",
  required: "required",
  mode: "mode",
  uid: "uid",
  gid: "gid",
  size: "size",
  env: "env",
};
const BARE_KEYS = new Set<MountKey>(["readonly", "readwrite", "required"]);

function mountError(text: string, message: string, location: Location | undefined, hint?: string): KilnError {
  return new KilnError("INVALID_MOUNT", `--mount=${text}: ${message}`, { ...(location ? { location } : {}), ...(hint ? { hint } : {}) });
}

/** RUN's --mount, --network and --security flag values, typed. */
export function parseRunFlags(raw: { mount?: readonly string[]; network?: string; security?: string }, location: Location): RunFlags {
  const mounts = (raw.mount ?? []).map((m) => parseMountFlag(m, location));
  let network: RunNetwork | undefined;
  if (raw.network !== undefined) {
    if (raw.network !== "default" && raw.network !== "none" && raw.network !== "host") {
      throw new KilnError("DOCKERFILE_FLAG", `unsupported network mode "${raw.network}"`, { location, hint: "RUN --network takes default, none or host" });
    }
    network = raw.network;
  }
  let security: RunSecurity | undefined;
  if (raw.security !== undefined) {
    if (raw.security !== "sandbox" && raw.security !== "insecure") {
      throw new KilnError("DOCKERFILE_FLAG", `unsupported security mode "${raw.security}"`, { location, hint: "RUN --security takes sandbox or insecure" });
    }
    security = raw.security;
  }
  return { mounts, ...(network !== undefined ? { network } : {}), ...(security !== undefined ? { security } : {}) };
}

/** One --mount value: keys checked, values kept raw (see resolveMount). */
export function parseMountFlag(text: string, location: Location): MountFlag {
  const fields: MountField[] = [];
  let from: string | undefined;
  for (const part of splitCsv(text)) {
    const eq = part.indexOf("=");
    const written = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const key = ALIASES[written];
    if (key === undefined) {
      throw mountError(text, `unexpected key '${written}' in '${part}'${didYouMean(written, ALL_KEYS)}`, location);
    }
    if (eq < 0 && !BARE_KEYS.has(key)) throw mountError(text, `invalid field '${part}' must be a key=value pair`, location);
    const value = eq < 0 ? "true" : part.slice(eq + 1);
    if (key === "from") {
      // BuildKit decides a stage's dependencies before any variable has a value.
      if (/\$./.test(value)) throw mountError(text, "'from' doesn't support variable expansion, define alias stage instead", location);
      from = value;
    }
    fields.push({ key, value, bare: eq < 0 });
  }
  const flag: MountFlag = { text, fields, ...(from !== undefined ? { from } : {}) };
  // Nothing to expand: every error can be reported now.
  if (!fields.some((f) => f.value.includes("$"))) resolveMount(flag, () => undefined, "/", location);
  return flag;
}

/** Expands a mount's values with the step's variables and types them; relative targets follow WORKDIR. */
export function resolveMount(flag: MountFlag, vars: VarLookup, workdir: string, location?: Location): RunMount {
  const fail = (message: string, hint?: string) => mountError(flag.text, message, location, hint);
  const v = new Map<MountKey, string>();
  let readonly: boolean | undefined;
  let type = "bind";
  for (const f of flag.fields) {
    const value = f.key === "from" ? f.value : expandWord(f.value, vars);
    if (f.key === "readonly" || f.key === "readwrite") {
      const b = parseBool(value);
      if (b === undefined) throw fail(`invalid value for ${f.key}: ${value}`);
      readonly = f.key === "readonly" ? b : !b;
      continue;
    }
    if (f.key === "type") {
      type = value.toLowerCase();
      if (!MOUNT_TYPES.includes(type)) throw fail(`unsupported mount type "${value}"${didYouMean(value, MOUNT_TYPES)}`, "use bind, cache, tmpfs, secret or ssh");
    }
    if ((f.key === "required" && type !== "secret" && type !== "ssh") || (f.key === "size" && type !== "tmpfs")) {
      throw fail(`unexpected key '${f.key}' for mount type '${type}'`);
    }
    v.set(f.key, value);
  }
  const rawTarget = v.get("target");
  const target = rawTarget !== undefined && rawTarget !== "" ? path.posix.resolve(workdir, rawTarget) : undefined;
  const int = (k: "mode" | "uid" | "gid", dflt: number): number => {
    const s = v.get(k);
    if (s === undefined) return dflt;
    if (!(k === "mode" ? /^[0-7]+$/ : /^[0-9]+$/).test(s)) throw fail(`invalid value ${s} for ${k}`);
    return parseInt(s, k === "mode" ? 8 : 10);
  };
  if (type !== "cache" && type !== "secret" && type !== "ssh") {
    for (const k of ["mode", "uid", "gid"] as const) if (v.has(k)) throw fail(`${k} not allowed for "${type}" type mounts`);
  }
  const sharing = v.get("sharing");
  if (sharing !== undefined) {
    if (type !== "cache") throw fail(`invalid cache sharing set for ${type} mount`);
    if (!SHARING.includes(sharing.toLowerCase())) throw fail(`unsupported sharing value "${sharing}"${didYouMean(sharing, SHARING)}`);
  }
  switch (type) {
    case "bind": {
      if (!target) throw fail("target is required", "e.g. --mount=type=bind,source=.,target=/src");
      return { type: "bind", target, source: v.get("source") ?? ".", ...(flag.from !== undefined ? { from: flag.from } : {}), readonly: readonly ?? true };
    }
    case "cache": {
      if (!target) throw fail("target is required", "e.g. --mount=type=cache,target=/root/.cache");
      if (flag.from !== undefined) throw fail("cache mounts seeded from another stage are not supported yet");
      return {
        type: "cache",
        target,
        id: v.get("id") || target,
        sharing: (sharing?.toLowerCase() ?? "shared") as CacheSharing,
        mode: int("mode", 0o755),
        uid: int("uid", 0),
        gid: int("gid", 0),
        readonly: readonly ?? false,
      };
    }
    case "tmpfs": {
      if (!target) throw fail("target is required", "e.g. --mount=type=tmpfs,target=/tmp");
      const size = v.get("size");
      return { type: "tmpfs", target, ...(size !== undefined ? { size: parseSize(size, fail) } : {}) };
    }
    case "secret": {
      if (flag.from !== undefined) throw fail("secret mount should not have a from");
      if (v.has("source") && v.has("id")) throw fail("both source and id can't be set");
      const id = v.get("id") || v.get("source") || (target ? path.posix.basename(target) : undefined);
      const env = v.get("env");
      if (!id) throw fail("invalid secret mount. one of source, target required", "e.g. --mount=type=secret,id=token");
      const required = v.get("required");
      const req = required === undefined ? false : parseBool(required);
      if (req === undefined) throw fail(`invalid value for required: ${required}`);
      return {
        type: "secret",
        target: target ?? (env !== undefined ? "" : `/run/secrets/${id}`),
        id,
        ...(env !== undefined ? { env } : {}),
        required: req,
        mode: int("mode", 0o400),
        uid: int("uid", 0),
        gid: int("gid", 0),
      };
    }
    default: {
      if (flag.from !== undefined) throw fail("ssh mount should not have a from");
      const required = v.get("required");
      const req = required === undefined ? false : parseBool(required);
      if (req === undefined) throw fail(`invalid value for required: ${required}`);
      return { type: "ssh", target: target ?? "", id: v.get("id") || "default", required: req, mode: int("mode", 0o600), uid: int("uid", 0), gid: int("gid", 0) };
    }
  }
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(s)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(s)) return false;
  return undefined;
}

/** docker's RAMInBytes: 64m, 1g, 512k, plain bytes. */
function parseSize(v: string, fail: (m: string) => Error): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(v);
  if (!m) throw fail(`invalid value for size: ${v}`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? "").toLowerCase() as "" | "k" | "m" | "g" | "t" | "p"];
  return Math.floor(Number(m[1]) * mult);
}

/** Splits a --mount value on commas, keeping quoted commas (CSV, as BuildKit reads it). */
function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = "";
      else cur += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== "");
}
