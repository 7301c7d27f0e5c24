// RUN --mount=type=bind|cache|tmpfs|secret, as BuildKit reads them: the
// flag text is parsed and expanded here, and each mount is prepared on the
// host (a filtered copy of the context, a persistent cache dir, a private
// secret file) for run-container to bind. Everything prepared is removed by
// the returned cleanup; nothing here writes into the step's rootfs.
import { createHash } from "node:crypto";
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { expandWord, type VarLookup } from "../../dockerfile/expand.js";
import type { ExtraMount } from "../../exec/runtime-spec.js";
import type { SecretSource } from "../../exec/secret-source.js";
import { copyIntoRoot } from "../../fsutil/copy-into-root.js";
import { resolveInRoot } from "../../fsutil/resolve-in-root.js";
import { KilnError, type SourceLocation } from "../../util/errors.js";
import type { StepContext } from "../step-context.js";
import { contextView, openFromSource, type SourceView } from "../source-view.js";

export type MountSpec =
  | { readonly type: "bind"; readonly target: string; readonly source: string; readonly rw: boolean; readonly from?: string }
  | { readonly type: "cache"; readonly target: string; readonly id: string; readonly sharing: "shared" | "private" | "locked"; readonly mode: number; readonly uid: number; readonly gid: number; readonly ro: boolean }
  | { readonly type: "tmpfs"; readonly target: string; readonly size?: number }
  | { readonly type: "secret"; readonly target: string; readonly id: string; readonly env?: string; readonly required: boolean; readonly mode: number; readonly uid: number; readonly gid: number };

export interface PreparedMounts {
  readonly mounts: ExtraMount[];
  /** `--mount=type=secret,env=VAR`: variables for the process only. */
  readonly env: string[];
  readonly cleanup: () => Promise<void>;
}

const BOOL_KEYS = new Set(["ro", "readonly", "rw", "readwrite", "required"]);

/** Parses one --mount value (`type=cache,target=/x,id=y`), expanding ARG/ENV values. */
export function parseMount(spec: string, vars: VarLookup, workdir: string, loc: SourceLocation): MountSpec {
  const fail = (msg: string, hint?: string) => new KilnError("INVALID_MOUNT", `--mount=${spec}: ${msg}`, { location: loc, ...(hint ? { hint } : {}) });
  const f = new Map<string, string>();
  for (const part of splitCsv(spec)) {
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 && !BOOL_KEYS.has(key)) throw fail(`"${part}" needs a value`);
    f.set(key, eq < 0 ? "true" : expandWord(part.slice(eq + 1), vars));
  }
  const type = f.get("type") ?? "bind";
  const rawTarget = f.get("target") ?? f.get("dst") ?? f.get("destination");
  const target = rawTarget !== undefined ? path.posix.resolve(workdir, rawTarget) : undefined;
  const bool = (k: string) => {
    const v = f.get(k);
    if (v === undefined) return undefined;
    if (v === "true" || v === "") return true;
    if (v === "false") return false;
    throw fail(`${k} must be true or false`);
  };
  const int = (k: string, dflt: number, radix = 10) => {
    const v = f.get(k);
    if (v === undefined) return dflt;
    const n = parseInt(v, radix);
    if (!/^[0-9]+$/.test(v) || Number.isNaN(n)) throw fail(`${k}=${v} is not a number`);
    return n;
  };
  const known = (keys: string[]) => {
    for (const k of f.keys()) if (![...keys, "type", "target", "dst", "destination"].includes(k)) throw fail(`unknown option "${k}" for type=${type}`);
  };
  const ro = bool("ro") ?? bool("readonly");
  const rw = bool("rw") ?? bool("readwrite");
  switch (type) {
    case "bind": {
      known(["source", "src", "from", "ro", "readonly", "rw", "readwrite"]);
      if (!target) throw fail("target is required", "e.g. --mount=type=bind,source=.,target=/src");
      const from = f.get("from");
      return { type: "bind", target, source: f.get("source") ?? f.get("src") ?? ".", rw: rw === true || ro === false, ...(from !== undefined ? { from } : {}) };
    }
    case "cache": {
      known(["id", "sharing", "mode", "uid", "gid", "ro", "readonly", "rw", "readwrite", "from", "source", "src"]);
      if (!target) throw fail("target is required", "e.g. --mount=type=cache,target=/root/.cache");
      if (f.has("from")) throw fail("cache mounts seeded from another stage are not supported yet");
      const sharing = f.get("sharing") ?? "shared";
      if (sharing !== "shared" && sharing !== "private" && sharing !== "locked") throw fail(`sharing must be shared, private or locked, not "${sharing}"`);
      return { type: "cache", target, id: f.get("id") ?? target, sharing, mode: int("mode", 0o755, 8), uid: int("uid", 0), gid: int("gid", 0), ro: ro === true };
    }
    case "tmpfs": {
      known(["size"]);
      if (!target) throw fail("target is required", "e.g. --mount=type=tmpfs,target=/tmp");
      const size = f.get("size");
      return { type: "tmpfs", target, ...(size !== undefined ? { size: parseSize(size, fail) } : {}) };
    }
    case "secret": {
      known(["id", "env", "required", "mode", "uid", "gid"]);
      const id = f.get("id") ?? (target ? path.posix.basename(target) : undefined);
      if (!id) throw fail("id (or target) is required", "e.g. --mount=type=secret,id=token");
      const env = f.get("env");
      // With env= and no target, the secret is only an environment variable.
      const mountTarget = target ?? (env !== undefined ? "" : `/run/secrets/${id}`);
      return { type: "secret", target: mountTarget, id, ...(env !== undefined ? { env } : {}), required: bool("required") ?? false, mode: int("mode", 0o400, 8), uid: int("uid", 0), gid: int("gid", 0) };
    }
    case "ssh":
      throw fail("type=ssh is not supported yet", "pass credentials with --secret and --mount=type=secret");
    default:
      throw fail(`unknown mount type "${type}"`, "use bind, cache, tmpfs or secret");
  }
}

/** Prepares the host side of every mount; call cleanup() when the container has exited. */
export async function prepareMounts(ctx: StepContext, specs: readonly MountSpec[], loc: SourceLocation): Promise<PreparedMounts> {
  if (specs.length === 0) return { mounts: [], env: [], cleanup: async () => {} };
  // The pid in the name lets the next kiln command sweep it after a kill -9.
  const scratch = await mkdtemp(path.join(ctx.layerEnv.tmpDir, `mounts-${process.pid}-`));
  await chmod(scratch, 0o700);
  const mounts: ExtraMount[] = [];
  const env: string[] = [];
  const release: (() => void)[] = [];
  const views: SourceView[] = [];
  const cleanup = async () => {
    for (const r of release) r();
    for (const v of views) await v.close();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    let n = 0;
    for (const m of specs) {
      const dir = path.join(scratch, String(n++));
      switch (m.type) {
        case "bind": {
          // A filtered copy of the context (or, with from=, of another stage's
          // or image's filesystem): .dockerignore applies to the context,
          // symlinks stay inside the source, and rw writes are thrown away.
          let source = contextView(ctx.contextDir, ctx.ignore);
          if (m.from !== undefined) {
            if (!ctx.fromSource) throw new KilnError("UNSUPPORTED", "--mount=from= needs a multi-stage build context", { location: loc });
            source = await openFromSource(ctx.layerEnv, await ctx.fromSource(m.from));
            views.push(source);
          }
          const rel = path.posix.normalize(m.source).replace(/^\/+/, "").replace(/\/+$/, "");
          const relClean = rel === "." ? "" : rel;
          const host = await resolveInRoot(source.dir, "/" + relClean);
          const st = await lstat(host).catch(() => undefined);
          if (!st) throw new KilnError("MOUNT_SOURCE_NOT_FOUND", `--mount=type=bind: source "${m.source}" not found in ${m.from !== undefined ? `--from=${m.from}` : "the build context"}`, { location: loc });
          await mkdir(dir, { mode: 0o755 });
          const isFile = !st.isDirectory();
          // Another stage's files keep their owners; context files are root's.
          await copyIntoRoot(dir, host, relClean, isFile ? "/file" : "/", { owner: m.from !== undefined ? "preserve" : { uid: 0, gid: 0 }, ignore: source.ignore });
          mounts.push({ kind: "bind", source: isFile ? path.join(dir, "file") : dir, destination: m.target, readonly: !m.rw, file: isFile });
          break;
        }
        case "cache": {
          const root = ctx.cacheMountsDir ?? path.join(path.dirname(ctx.layerEnv.tmpDir), "cache", "mounts");
          // The id may be any string (often a path): hash it into a safe name.
          const host = path.join(root, createHash("sha256").update(m.id).digest("hex").slice(0, 32));
          await mkdir(root, { recursive: true, mode: 0o700 });
          const created = await mkdir(host, { mode: m.mode }).then(() => true, (e: NodeJS.ErrnoException) => {
            if (e.code === "EEXIST") return false;
            throw e;
          });
          if (created) {
            await chown(host, m.uid, m.gid);
            await chmod(host, m.mode);
          }
          if (m.sharing === "locked") release.push(await lockCache(host));
          mounts.push({ kind: "bind", source: host, destination: m.target, readonly: m.ro, file: false });
          break;
        }
        case "tmpfs":
          mounts.push({ kind: "tmpfs", destination: m.target, ...(m.size !== undefined ? { sizeBytes: m.size } : {}) });
          break;
        case "secret": {
          const source = ctx.secrets?.find((s) => s.id === m.id);
          if (!source) {
            if (m.required) {
              throw new KilnError("SECRET_NOT_FOUND", `secret "${m.id}" is required but was not given`, { location: loc, hint: `pass --secret id=${m.id},src=FILE or --secret id=${m.id},env=VAR` });
            }
            break; // BuildKit skips a missing optional secret
          }
          const value = await secretValue(source, loc);
          if (m.env !== undefined) env.push(`${m.env}=${value.toString("utf8")}`);
          if (m.target !== "") {
            await mkdir(dir, { mode: 0o700 });
            const file = path.join(dir, "secret");
            await writeFile(file, value, { mode: 0o600 });
            await chown(file, m.uid, m.gid);
            await chmod(file, m.mode);
            mounts.push({ kind: "bind", source: file, destination: m.target, readonly: true, file: true });
          }
          break;
        }
      }
    }
    return { mounts, env, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function secretValue(s: SecretSource, loc: SourceLocation): Promise<Buffer> {
  if (s.kind === "env") return Buffer.from(s.value, "utf8");
  try {
    return await readFile(s.path);
  } catch {
    // The path is the user's own; the value is never shown.
    throw new KilnError("SECRET_NOT_FOUND", `secret "${s.id}": cannot read ${s.path}`, { location: loc });
  }
}

// sharing=locked: one RUN at a time per cache dir within this process.
const cacheLocks = new Map<string, Promise<void>>();
async function lockCache(dir: string): Promise<() => void> {
  const previous = cacheLocks.get(dir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => mine);
  cacheLocks.set(dir, chained);
  await previous;
  return () => {
    release();
    if (cacheLocks.get(dir) === chained) cacheLocks.delete(dir);
  };
}

function parseSize(v: string, fail: (m: string) => Error): number {
  const m = /^([0-9]+)([kmgKMG]?)[bB]?$/.exec(v);
  if (!m) throw fail(`size=${v} is not a size (e.g. 64m)`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? "").toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
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
