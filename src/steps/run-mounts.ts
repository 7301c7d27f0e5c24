// RUN --mount=type=bind|cache|tmpfs|secret of a resolved step (parsed and
// expanded by dockerfile/run-flags.ts), each prepared on the
// host (a filtered copy of the context, a persistent cache dir, a private
// secret file) for run-container to bind. Everything prepared is removed by
// the returned cleanup; nothing here writes into the step's rootfs.
import { createHash } from "node:crypto";
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RunMount } from "../dockerfile/run-flags.js";
import type { ExtraMount } from "../exec/runtime-spec.js";
import type { SecretSource } from "../exec/secret-source.js";
import { serveAgentProxy } from "../exec/ssh-agent.js";
import { copyIntoRoot } from "./copy-into-root.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import { KilnError, type SourceLocation } from "../util/errors.js";
import type { StepContext } from "./step-context.js";
import type { MountSource } from "./run-mount-sources.js";
import { contextView, openFromSource, type SourceView } from "../snapshot/source-view.js";

/** Per build (its emptyCacheMounts set): the one removal of each cache dir, which parallel steps wait for. */
const emptying = new WeakMap<Set<string>, Map<string, Promise<void>>>();
function emptyOnce(done: Set<string>, host: string): Promise<void> {
  let pending = emptying.get(done);
  if (!pending) emptying.set(done, (pending = new Map()));
  let p = pending.get(host);
  if (!p) {
    done.add(host);
    p = rm(host, { recursive: true, force: true });
    pending.set(host, p);
  }
  return p;
}

export interface PreparedMounts {
  readonly mounts: ExtraMount[];
  /** `--mount=type=secret,env=VAR`: variables for the process only. */
  readonly env: string[];
  readonly cleanup: () => Promise<void>;
}

/** Prepares the host side of every mount; call cleanup() when the container has exited. */
export async function prepareMounts(ctx: StepContext, specs: readonly RunMount[], sources: readonly (MountSource | undefined)[], loc: SourceLocation): Promise<PreparedMounts> {
  if (specs.length === 0) return { mounts: [], env: [], cleanup: async () => {} };
  // The pid in the name lets the next kiln command sweep it after a kill -9.
  const scratch = await mkdtemp(path.join(ctx.layerEnv.tmpDir, `mounts-${process.pid}-`));
  await chmod(scratch, 0o700);
  const mounts: ExtraMount[] = [];
  const env: string[] = [];
  const release: (() => void)[] = [];
  const views: SourceView[] = [];
  const closers: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of closers) await c();
    for (const r of release) r();
    for (const v of views) await v.close();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    let n = 0;
    let sshCount = 0;
    for (const [i, m] of specs.entries()) {
      const dir = path.join(scratch, String(n++));
      switch (m.type) {
        case "bind": {
          // A filtered copy of the context (or, with from=, of another stage's
          // or image's filesystem): .dockerignore applies to the context,
          // symlinks stay inside the source, and rw writes are thrown away.
          const from = sources[i]?.from;
          if (!from) throw new KilnError("INTERNAL", "a bind mount's source was not resolved", { location: loc });
          const source = from.kind === "context" ? contextView(ctx.contextDir, ctx.ignore) : await openFromSource(ctx.layerEnv, from);
          views.push(source);
          const rel = path.posix.normalize(m.source).replace(/^\/+/, "").replace(/\/+$/, "");
          const relClean = rel === "." ? "" : rel;
          const host = await resolveInRoot(source.dir, "/" + relClean);
          const st = await lstat(host).catch(() => undefined);
          if (!st) throw new KilnError("MOUNT_SOURCE_NOT_FOUND", `--mount=type=bind: source "${m.source}" not found in ${m.from !== undefined ? `--from=${m.from}` : "the build context"}`, { location: loc });
          await mkdir(dir, { mode: 0o755 });
          const isFile = !st.isDirectory();
          // Another stage's files keep their owners; context files are root's.
          await copyIntoRoot(dir, host, relClean, isFile ? "/file" : "/", { owner: m.from !== undefined ? "preserve" : { uid: 0, gid: 0 }, ignore: source.ignore });
          mounts.push({ kind: "bind", source: isFile ? path.join(dir, "file") : dir, destination: m.target, readonly: m.readonly, file: isFile });
          break;
        }
        case "cache": {
          const root = ctx.cacheMountsDir ?? path.join(path.dirname(ctx.layerEnv.tmpDir), "cache", "mounts");
          // The id may be any string (often a path): hash it into a safe name.
          const host = path.join(root, createHash("sha256").update(m.id).digest("hex").slice(0, 32));
          await mkdir(root, { recursive: true, mode: 0o700 });
          // --no-cache: the first use in this build starts from an empty directory (as BuildKit).
          if (ctx.emptyCacheMounts) await emptyOnce(ctx.emptyCacheMounts, host);
          const created = await mkdir(host, { mode: m.mode }).then(() => true, (e: NodeJS.ErrnoException) => {
            if (e.code === "EEXIST") return false;
            throw e;
          });
          if (created) {
            await chown(host, m.uid, m.gid);
            await chmod(host, m.mode);
          }
          if (m.sharing === "locked") release.push(await lockCache(host));
          mounts.push({ kind: "bind", source: host, destination: m.target, readonly: m.readonly, file: false });
          break;
        }
        case "tmpfs":
          mounts.push({ kind: "tmpfs", destination: m.target, ...(m.size !== undefined ? { sizeBytes: m.size } : {}) });
          break;
        case "secret": {
          const source = ctx.secrets?.find((s) => s.id === m.id);
          if (!source) {
            if (m.required) {
              throw new KilnError("SECRET_NOT_FOUND", `secret ${m.id}: not found — the mount says required=true but the build was given no such secret`, { location: loc, hint: `pass --secret id=${m.id},src=FILE or --secret id=${m.id},env=VAR` });
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
        case "ssh": {
          const source = ctx.sshSources?.find((s) => s.id === m.id);
          const target = m.target || `/run/buildkit/ssh_agent.${sshCount++}`;
          if (!source) {
            if (m.required) throw new KilnError("SSH_NOT_FOUND", `ssh agent "${m.id}" is required but was not given`, { location: loc, hint: m.id === "default" ? "pass --ssh default (forwards $SSH_AUTH_SOCK)" : `pass --ssh ${m.id}=/path/to/agent.sock` });
            break; // BuildKit skips a missing optional ssh mount
          }
          await mkdir(dir, { mode: 0o700 });
          const proxy = await serveAgentProxy(source, path.join(dir, "agent.sock"), m);
          closers.push(proxy.close);
          mounts.push({ kind: "bind", source: path.join(dir, "agent.sock"), destination: target, readonly: false, file: true });
          // The first ssh mount is the one ssh and git find by default.
          if (!env.some((e) => e.startsWith("SSH_AUTH_SOCK="))) env.push(`SSH_AUTH_SOCK=${target}`);
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
