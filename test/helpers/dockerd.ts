// A real dockerd (Debian's docker.io) on its own socket under `work`, with
// no bridge and no iptables, for tests that hand images to docker.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

export const DOCKER = "/usr/bin/docker"; // Debian's client, matching its dockerd

export interface Dockerd {
  /** DOCKER_HOST for this daemon. */
  readonly env: NodeJS.ProcessEnv;
  readonly stop: () => Promise<void>;
}

export async function startDockerd(work: string): Promise<Dockerd> {
  if (!existsSync("/usr/sbin/dockerd") || !existsSync(DOCKER)) throw new Error("dockerd is missing: run scripts/setup.sh (apt-get install docker.io)");
  const sock = path.join(work, "docker.sock");
  const dockerd: ChildProcess = spawn("dockerd", ["--bridge=none", "--iptables=false", "--ip6tables=false", "--data-root", path.join(work, "data"), "--exec-root", path.join(work, "exec"), "--pidfile", path.join(work, "pid"), "-H", `unix://${sock}`], { stdio: "ignore" });
  const env = { DOCKER_HOST: `unix://${sock}` };
  const stop = async () => {
    dockerd.kill("SIGTERM");
    await new Promise((r) => (dockerd.exitCode !== null ? r(undefined) : dockerd.once("exit", r)));
    execFileSync("sh", ["-c", `grep ' ${work}' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r umount -l`]);
  };
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(DOCKER, ["version"], { env: { ...process.env, ...env }, stdio: "ignore" });
      return { env, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error("dockerd did not start");
}
