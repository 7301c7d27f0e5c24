// --load: the built image goes into a running dockerd (Debian's docker.io,
// started here on its own socket, no bridge, no iptables) through
// `docker load`, as buildx's --load; DOCKER_HOST picks the daemon.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";
import { DOCKER, startDockerd, type Dockerd } from "../helpers/dockerd.js";

describe("build --load", () => {
  const ws = useWorkspace({ busybox: true, name: "load", context: { Dockerfile: "FROM busybox\nRUN echo loaded > /msg\nCMD [\"cat\", \"/msg\"]\n" } });
  let dockerd: Dockerd;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    await requireBuilt("src/cli/build-outputs.ts");
    dockerd = await startDockerd(ws.work);
    // Debian's client first on PATH: the one kiln runs for --load.
    env = { ...dockerd.env, PATH: `/usr/bin:${process.env.PATH}` };
  });
  afterAll(async () => {
    await dockerd?.stop();
  });

  it("loads the image with its name into the daemon DOCKER_HOST names; its ID is kiln's image ID", () => {
    const r = shell(`kiln --root ${sh(ws.root)} build --load -t loaded:1 --iidfile ${sh(path.join(ws.work, "iid"))} ${sh(ws.ctx)} && cat ${sh(path.join(ws.work, "iid"))}`, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Loaded image: loaded:1/);
    const id = execFileSync(DOCKER, ["image", "inspect", "--format", "{{.Id}}", "loaded:1"], { env: { ...process.env, ...env }, encoding: "utf8" }).trim();
    expect(r.stdout).toBe(id);
    expect(execFileSync(DOCKER, ["run", "--rm", "--network=none", "loaded:1"], { env: { ...process.env, ...env }, encoding: "utf8" })).toBe("loaded\n");
    const two = shell(`kiln --root ${sh(ws.root)} build --load --platform linux/amd64,linux/arm64 ${sh(ws.ctx)}`, env);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--load takes one platform/);
  });
});
