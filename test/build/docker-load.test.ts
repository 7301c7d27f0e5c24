// The docker-format tar loads into a real dockerd (Debian's docker.io,
// started here with no bridge and no iptables, on its own socket) and the
// loaded image runs with docker as it runs with runc.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { DOCKER, startDockerd, type Dockerd } from "../helpers/dockerd.js";

describe("docker load of kiln's docker-format tar", () => {
  const ws = useWorkspace({ busybox: true, name: "dockerd" });
  let dockerd: Dockerd;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dockerd = await startDockerd(ws.work);
    env = { ...process.env, ...dockerd.env };
  });
  afterAll(async () => {
    await dockerd?.stop();
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
