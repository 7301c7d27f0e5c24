// `--network slirp4netns`: RUN in a network namespace of its own with
// outbound access through slirp4netns (a user-mode TCP/IP stack, Debian
// package slirp4netns), with or without root. The host's loopback is not
// reachable from it (--disable-host-loopback): that is the isolation this
// mode is for. Measured as the user against pasta (README "Without root"):
// slirp4netns ~240 ms from launch to a configured interface, pasta ~1 s.
//
// runc starts it from a createRuntime hook, which runs once the container's
// namespaces exist and before its process starts, with the container state
// (its pid) on stdin. The hook returns when slirp4netns says it is ready;
// slirp4netns keeps running until stopSlirp4netns kills it by its pid file.
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { findOnPath } from "../util/find-on-path.js";
import { KilnError } from "../util/errors.js";

/** slirp4netns' built-in DNS forwarder, for the container's /etc/resolv.conf. */
export const SLIRP_RESOLV_CONF = "nameserver 10.0.2.3\n";

const HOOK = [
  `pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p')`,
  '[ -n "$pid" ] || { echo "no pid in the container state" >>"$3"; exit 1; }',
  'f="$2.ready"; mkfifo "$f" || exit 1',
  // stdout/stderr to the log: runc waits for EOF on the hook's pipes.
  '"$1" --configure --mtu=65520 --disable-host-loopback --ready-fd=3 "$pid" tap0 3>"$f" </dev/null >>"$3" 2>&1 &',
  'echo $! >"$2"',
  'r=$(head -c1 "$f"); rm -f "$f"',
  '[ "$r" = 1 ] || { echo "slirp4netns did not start" >>"$3"; exit 1; }',
].join("\n");

export interface Slirp {
  /** runtime-spec `hooks` value. */
  readonly hooks: object;
  readonly pidFile: string;
  readonly logFile: string;
}

export async function slirp4netnsHooks(bundle: string, searchPath?: string): Promise<Slirp> {
  const bin = await findOnPath("slirp4netns", searchPath ?? process.env.PATH);
  if (!bin) {
    throw new KilnError("NO_SLIRP4NETNS", "--network slirp4netns: slirp4netns is not installed", {
      hint: "apt-get install slirp4netns (it also needs /dev/net/tun readable and writable: mode 0666, as udev sets it)",
    });
  }
  const pidFile = path.join(bundle, "slirp4netns.pid");
  const logFile = path.join(bundle, "slirp4netns.log");
  return { hooks: { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", HOOK, "slirp-hook", bin, pidFile, logFile] }] }, pidFile, logFile };
}

/** Stops slirp4netns (if the hook started it); its log, for an error, is returned. */
export async function stopSlirp4netns(s: Slirp): Promise<string> {
  const pid = Number((await readFile(s.pidFile, "utf8").catch(() => "")).trim());
  if (pid > 0) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const log = await readFile(s.logFile, "utf8").catch(() => "");
  await rm(s.pidFile, { force: true });
  return log.trim();
}
