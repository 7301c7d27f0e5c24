// Without root, kiln re-executes itself in a user namespace, as rootlesskit
// and buildah do: the user's own id becomes 0 and their subordinate ids
// 1..N, so that inside it kiln is "root" over every id an image may use
// (chown to 1000, setuid files, USER app), with a mount namespace of its own
// for overlay mounts. The host sees those files owned by the subordinate
// ids; inside, they read back exactly as a root build writes them, so the
// layers (and digests) are the same.
//
// Mapping more than the caller's own id needs the setuid helpers
// newuidmap/newgidmap (Debian: uidmap), which check /etc/subuid and
// /etc/subgid. The child is `unshare --user --mount`; it tells us (fd 3)
// when its namespace exists, we write its maps, and tell it to exec kiln.
import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import type { Duplex } from "node:stream";
import { KilnError } from "../util/errors.js";
import { noSubidsError, readSubids, type IdRange } from "./subids.js";
import { findOnPath } from "../util/find-on-path.js";

/** Set in the re-executed child: the host uid it runs for (for `kiln info` and errors). */
export const ROOTLESS_ENV = "KILN_ROOTLESS_UID";

/** The lines for newuidmap/newgidmap: own id → 0, then each subordinate range from 1 on. */
export function idMapArgs(ownId: number, ranges: readonly IdRange[]): string[] {
  const args = ["0", String(ownId), "1"];
  let inner = 1;
  for (const r of ranges) {
    args.push(String(inner), String(r.start), String(r.count));
    inner += r.count;
  }
  return args;
}

/** True when this process must re-execute itself before touching a store. */
export function needsUserNamespace(): boolean {
  return typeof process.getuid === "function" && process.getuid() !== 0;
}

/**
 * Runs this same kiln command (node, its flags, the script, argv) in a new
 * user + mount namespace and returns its exit code. Errors before the child
 * runs (no subordinate ids, no newuidmap, a refused namespace) are
 * KilnErrors saying what to do.
 */
export async function runInUserNamespace(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const u = userInfo();
  const user = { name: u.username, id: u.uid };
  const ids = await readSubids(user);
  if (ids.uids.length === 0 || ids.gids.length === 0) throw noSubidsError(user, ids);
  const [newuidmap, newgidmap, unshare] = await Promise.all(["newuidmap", "newgidmap", "unshare"].map((t) => findOnPath(t, env.PATH)));
  if (!newuidmap || !newgidmap) {
    throw new KilnError("NO_NEWUIDMAP", "newuidmap/newgidmap not found: kiln needs them to map subordinate ids without root", {
      hint: "install them (Debian/Ubuntu: apt-get install uidmap; Fedora: shadow-utils)",
    });
  }
  if (!unshare) throw new KilnError("NO_UNSHARE", "unshare(1) not found", { hint: "install util-linux" });

  const script = [
    "printf r >&3",
    'IFS= read -r go <&3 || exit 125',
    '[ "$go" = go ] || exit 125',
    "exec 3>&-",
    'exec "$@"',
  ].join("; ");
  const cmd = [process.execPath, ...process.execArgv, process.argv[1]!, ...argv];
  const child = spawn(unshare, ["--user", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "kiln", ...cmd], {
    stdio: ["inherit", "inherit", "pipe", "pipe"],
    env: { ...env, PATH: withSbin(env.PATH), [ROOTLESS_ENV]: String(u.uid) },
  });
  // stderr is piped only until the maps are written, so unshare's own
  // refusal ("unshare failed: Operation not permitted") can be explained.
  let early = "";
  const onEarly = (d: Buffer) => (early += d.toString());
  child.stderr!.on("data", onEarly);
  const control = child.stdio[3] as unknown as Duplex;

  // Ctrl-C reaches the child through the terminal's process group; only
  // forward what is sent to this process alone.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = (["SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  process.removeAllListeners("SIGINT");
  process.on("SIGINT", () => {});
  for (const [s, h] of handlers) {
    process.removeAllListeners(s);
    process.on(s, h);
  }

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<boolean>((resolve) => {
    control.once("data", () => resolve(true));
    control.once("end", () => resolve(false));
    control.once("error", () => resolve(false));
  });
  if (!(await ready)) {
    const r = await exited;
    throw refused(early, r.code);
  }
  const pid = String(child.pid);
  try {
    await helper(newuidmap, [pid, ...idMapArgs(u.uid, ids.uids)]);
    await helper(newgidmap, [pid, ...idMapArgs(u.gid, ids.gids)]);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  control.end("go\n");
  child.stderr!.off("data", onEarly);
  child.stderr!.pipe(process.stderr);
  const r = await exited;
  for (const [s, h] of handlers) process.off(s, h);
  return r.code ?? 128 + (r.signal ? (signalNumbers[r.signal] ?? 0) : 0);
}

/**
 * Inside the namespace kiln is root and looks for root's tools (runc is in
 * /usr/sbin on Debian), which an ordinary user's PATH often leaves out.
 */
function withSbin(p = ""): string {
  const dirs = p.split(":").filter(Boolean);
  for (const d of ["/usr/local/sbin", "/usr/sbin", "/sbin"]) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(":");
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function refused(stderr: string, code: number | null): KilnError {
  return new KilnError("USERNS_REFUSED", `cannot create a user namespace (unshare exited ${code}): ${stderr.trim() || "no message"}`, {
    hint:
      "the kernel or its configuration refuses unprivileged user namespaces: check user.max_user_namespaces > 0, " +
      "kernel.unprivileged_userns_clone=1 (Debian kernels before 5.10), and on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0 " +
      "or an AppArmor profile allowing userns for node; inside a container, the container must allow unshare(CLONE_NEWUSER)",
  });
}

function helper(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.on("error", reject);
    c.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new KilnError("IDMAP_FAILED", `${cmd} ${args.join(" ")} failed (exit ${code}): ${err.trim()}`, {
            hint: `${cmd} must be setuid root (or have CAP_SETUID/CAP_SETGID file capabilities) and the ranges must be in /etc/subuid and /etc/subgid`,
          }),
        );
    });
  });
}
