// The docker-format tar loads into a real dockerd (Debian's docker.io,
// started here with no bridge and no iptables, on its own socket) and the
// loaded image runs with docker as it runs with runc.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const DOCKER = "/usr/bin/docker"; // Debian's client, matching its dockerd

describe("docker load of kiln's docker-format tar", () => {
  const ws = useWorkspace({ busybox: true, name: "dockerd" });
  let dockerd: ChildProcess;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    if (!existsSync("/usr/sbin/dockerd") || !existsSync(DOCKER)) throw new Error("dockerd is missing: run scripts/setup.sh (apt-get install docker.io)");
    const sock = path.join(ws.work, "docker.sock");
    dockerd = spawn("dockerd", ["--bridge=none", "--iptables=false", "--ip6tables=false", "--data-root", path.join(ws.work, "data"), "--exec-root", path.join(ws.work, "exec"), "--pidfile", path.join(ws.work, "pid"), "-H", `unix://${sock}`], { stdio: "ignore" });
    env = { ...process.env, DOCKER_HOST: `unix://${sock}` };
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync(DOCKER, ["version"], { env, stdio: "ignore" });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error("dockerd did not start");
  });
  afterAll(async () => {
    dockerd?.kill("SIGTERM");
    await new Promise((r) => dockerd?.once("exit", r) ?? r(undefined));
    execFileSync("sh", ["-c", `grep ' ${ws.work}' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r umount -l`]);
  });

  it("loads with its name and config, and runs", async () => {
    const tar = path.join(ws.work, "hello.tar");
    const b = await kiln(["--root", ws.root, "build", "-q", "-t", "hello:1", "--output", `type=docker,dest=${tar}`, path.join(REPO, "examples/hello")]);
    expect(b.code).toBe(0);
    expect(execFileSync(DOCKER, ["load", "-i", tar], { env, encoding: "utf8" })).toMatch(/Loaded image: hello:1/);
    const inspect = JSON.parse(execFileSync(DOCKER, ["image", "inspect", "hello:1"], { env, encoding: "utf8" }))[0];
    const ours = JSON.parse((await kiln(["--root", ws.root, "inspect", "hello:1"])).stdout)[0];
    expect(inspect.Id).toBe(ours.Manifest.config.digest);
    expect(inspect.Config.User).toBe("app");
    expect(inspect.Config.Entrypoint).toEqual(["/app/greet.sh"]);
    const out = execFileSync(DOCKER, ["run", "--rm", "--network=none", "hello:1"], { env, encoding: "utf8" });
    expect(out).toBe("hello from kiln\nhello, world (running as app in /app)\n");
  });
});
