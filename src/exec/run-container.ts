// Runs one process in a fresh container over a prepared rootfs, through an
// OCI runtime (runc/crun) and a generated bundle. The caller owns the rootfs
// (an overlay mount); this module only adds and later removes the mount-point
// stubs the runtime needs, so they never show up in the step's diff.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, rmdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Writable } from "node:stream";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import { adjustForUserNamespace } from "../rootless/rootless-spec.js";
import { KilnError } from "../util/errors.js";
import { findRuntime, type RuntimeName } from "./find-runtime.js";
import { SLIRP_RESOLV_CONF, slirp4netnsHooks, stopSlirp4netns, type Slirp } from "./slirp4netns.js";
import { hostsFileText, mountDestinations, runtimeSpec, specJson, type ExtraHost, type ExtraMount, type NetworkMode, type ProcessSpec } from "./runtime-spec.js";
import type { Confinement, ProcessLimits } from "./sandbox.js";

export interface RunOptions {
  readonly rootfs: string;
  readonly process: ProcessSpec;
  readonly network: NetworkMode;
  /** --add-host entries for /etc/hosts. */
  readonly extraHosts?: readonly ExtraHost[];
  readonly runtime?: RuntimeName;
  /** Where the bundle (config.json, hosts) is written; removed afterwards. */
  readonly stateDir?: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly hostname?: string;
  /** Aborting stops the container (SIGTERM through the runtime, which forwards it). */
  readonly signal?: AbortSignal;
  /** PATH to find the runtime in (default: this process's). */
  readonly searchPath?: string;
  /** RUN --mount mounts (bind, cache, tmpfs, secret) and heredoc scripts. */
  readonly mounts?: readonly ExtraMount[];
  /** Default: Docker's capabilities and seccomp profile. */
  readonly confinement?: Confinement;
  readonly limits?: ProcessLimits;
}

export interface RunResult {
  readonly exitCode: number;
}

export async function runContainer(opts: RunOptions): Promise<RunResult> {
  const runtimeName = opts.runtime ?? "runc";
  const runtime = await findRuntime(runtimeName, opts.searchPath);
  const bundle = await mkdtemp(path.join(opts.stateDir ?? tmpdir(), `run-${process.pid}-`));
  const id = `kiln-${randomBytes(6).toString("hex")}`;
  const extra = opts.mounts ?? [];
  const fileTargets = new Set(["/etc/hosts", "/etc/resolv.conf", ...extra.filter((m) => m.kind === "bind" && m.file).map((m) => m.destination)]);
  // Targets inside /dev, /proc and /sys live in the runtime's own mounts, not the rootfs.
  const inRootfs = (d: string) => !/^\/(dev|proc|sys)(\/|$)/.test(d) || mountDestinations({ network: opts.network }).includes(d);
  const stubs = await createMountStubs(opts.rootfs, [...mountDestinations({ network: opts.network }), ...extra.map((m) => m.destination)].filter(inRootfs), fileTargets);
  let slirp: Slirp | undefined;
  try {
    const hostsFile = path.join(bundle, "hosts");
    const hostname = opts.hostname ?? "buildkitsandbox";
    await writeFile(hostsFile, hostsFileText(hostname, opts.extraHosts));
    if (opts.network === "slirp4netns") {
      slirp = await slirp4netnsHooks(bundle, opts.searchPath);
      await writeFile(path.join(bundle, "resolv.conf"), SLIRP_RESOLV_CONF);
    }
    const spec = adjustForUserNamespace(runtimeSpec({
      rootfs: opts.rootfs,
      process: opts.process,
      network: opts.network,
      hostname,
      hostsFile,
      resolvConf: slirp ? path.join(bundle, "resolv.conf") : "/etc/resolv.conf",
      ...(slirp ? { hooks: slirp.hooks } : {}),
      extraMounts: extra,
      ...(opts.confinement ? { confinement: opts.confinement } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    }));
    await writeFile(path.join(bundle, "config.json"), specJson(spec));
    // The runtime logs its own failures (JSON, level=error) to a file, so
    // they are never confused with the step's stderr or its exit code.
    const logFile = path.join(bundle, "runtime.log");
    const code = await new Promise<number>((resolve, reject) => {
      const runtimeArgs = ["--root", path.join(bundle, "state"), "--log", logFile, "--log-format", "json", "run", "--bundle", bundle, id];
      const child = spawn(runtime, runtimeArgs, { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.pipe(opts.stdout, { end: false });
      child.stderr.pipe(opts.stderr, { end: false });
      // The step's process is PID 1 of its namespace, which ignores SIGTERM
      // unless it installed a handler (a plain `sh -c` does not): kill it.
      const onAbort = () => {
        spawn(runtime, ["--root", path.join(bundle, "state"), "kill", id, "KILL"], { stdio: "ignore" }).on("error", () => child.kill("SIGKILL"));
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", reject);
      child.on("close", (c, signal) => {
        opts.signal?.removeEventListener("abort", onAbort);
        resolve(c ?? (signal ? 128 : 1));
      });
    });
    if (opts.signal?.aborted) throw new KilnError("INTERRUPTED", "build interrupted");
    if (code !== 0) {
      const failure = await runtimeFailure(logFile);
      // The image lacks the program (often /bin/sh of a shell-form RUN on a distroless or scratch image).
      const missing = failure === undefined ? undefined : /exec: "([^"]+)": (?:stat [^:]+: )?no such file or directory|exec: "([^"]+)": executable file not found/.exec(failure);
      if (missing) {
        const prog = missing[1] ?? missing[2]!;
        throw new KilnError("RUN_NO_EXECUTABLE", `${prog} does not exist in the image`, {
          hint: prog === "/bin/sh" || prog === opts.process.args[0] && /sh$/.test(prog)
            ? "a shell-form RUN needs /bin/sh: use a base image with a shell, the exec form RUN [\"/prog\", \"arg\"], or SHELL to name another shell"
            : `check the path, or install ${prog} in an earlier step`,
        });
      }
      if (failure !== undefined) {
        throw new KilnError("RUNTIME_FAILED", `${runtimeName} failed to start the container: ${failure}`, {
          hint: /hybrid/.test(failure)
            ? `${runtimeName} does not support this machine's cgroup layout; use --runtime runc`
            : `check that the OCI runtime works: \`${runtimeName} --version\``,
        });
      }
    }
    return { exitCode: code };
  } finally {
    if (slirp) await stopSlirp4netns(slirp);
    await removeMountStubs(stubs);
    await rm(bundle, { recursive: true, force: true });
  }
}

/** The runtime's own error message, if it logged one. */
async function runtimeFailure(logFile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logFile, "utf8");
  } catch {
    return undefined;
  }
  const errors = text
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as { level?: string; msg?: string };
      } catch {
        return { level: "error", msg: l };
      }
    })
    .filter((e) => e.level === "error" || e.level === "fatal");
  if (errors.length === 0) return undefined;
  return errors.map((e) => e.msg ?? "").join("; ").replace(/\s+/g, " ").slice(0, 500);
}

interface Stub {
  readonly path: string;
  readonly kind: "file" | "dir";
  /** The existing directory the stub was made in, with its times before (restored after removal, as BuildKit's stub cleaner does). */
  readonly parent?: { readonly path: string; readonly atime: Date; readonly mtime: Date };
}

/**
 * Creates every missing mount point (and missing parent directory) so the
 * runtime does not create them itself; returns them deepest-last so removal
 * can go in reverse.
 */
async function createMountStubs(rootfs: string, destinations: string[], fileTargets: ReadonlySet<string>): Promise<Stub[]> {
  const created: Stub[] = [];
  for (const dest of destinations) {
    const parts = dest.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      // Resolved inside the rootfs: an image symlink (/run -> /var/run) must
      // never make us create directories on the host.
      const p = await resolveInRoot(rootfs, "/" + parts.slice(0, i).join("/"));
      if (await exists(p)) continue;
      const parentPath = path.dirname(p);
      const ps = created.some((c) => c.path === parentPath) ? undefined : await lstat(parentPath).catch(() => undefined);
      const isLeafFile = i === parts.length && fileTargets.has(dest);
      if (isLeafFile) await writeFile(p, "", { mode: 0o644 });
      else await mkdir(p, { mode: 0o755 });
      created.push({ path: p, kind: isLeafFile ? "file" : "dir", ...(ps ? { parent: { path: parentPath, atime: ps.atime, mtime: ps.mtime } } : {}) });
    }
  }
  return created;
}

/** Removes stubs we created, unless the step put something in them. */
async function removeMountStubs(stubs: Stub[]): Promise<void> {
  for (const stub of [...stubs].reverse()) {
    try {
      let removed = false;
      if (stub.kind === "dir") {
        if ((await readdir(stub.path)).length === 0) {
          await rmdir(stub.path);
          removed = true;
        }
      } else {
        const st = await lstat(stub.path);
        if (st.isFile() && st.size === 0) {
          await rm(stub.path);
          removed = true;
        }
      }
      // Making and removing the stub touched its parent's times; put them back
      // so the parent is unchanged in the step's diff.
      if (removed && stub.parent) await utimes(stub.parent.path, stub.parent.atime, stub.parent.mtime);
    } catch {
      // The step removed it, or filled it: either way it is the step's.
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
