// --ssh with RUN --mount=type=ssh: a real ssh-agent (Debian's
// openssh-client) holding a key made here; inside RUN, ssh-add -l (the
// host's binary and its libraries, copied into the image) lists that key
// through the forwarded socket. The key never reaches the image.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("build --ssh", () => {
  const ws = useWorkspace({ busybox: true, name: "ssh" });
  let agentEnv: NodeJS.ProcessEnv;
  let fingerprint: string;
  beforeAll(async () => {
    await requireBuilt("src/exec/ssh-agent.ts", "src/steps/run-mounts.ts");
    for (const tool of ["ssh-agent", "ssh-add", "ssh-keygen"]) {
      if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is missing: apt-get install openssh-client`);
    }
    const sock = path.join(ws.work, "agent.sock");
    const pid = execFileSync("ssh-agent", ["-a", sock, "-s"], { encoding: "utf8" }).match(/SSH_AGENT_PID=(\d+)/)![1]!;
    agentEnv = { SSH_AUTH_SOCK: sock, SSH_AGENT_PID: pid };
    const key = path.join(ws.work, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kiln-test-key", "-f", key]);
    execFileSync("ssh-add", ["-q", key], { env: { ...process.env, ...agentEnv } });
    fingerprint = execFileSync("ssh-keygen", ["-lf", key], { encoding: "utf8" }).split(" ")[1]!;
    // ssh-add and the shared libraries it loads, at their own paths in the context.
    const files = ["/usr/bin/ssh-add", ...execFileSync("ldd", ["/usr/bin/ssh-add"], { encoding: "utf8" }).matchAll(/(\/\S+) \(0x/g)].map((m) => (typeof m === "string" ? m : m[1]!));
    for (const f of files) {
      await mkdir(path.join(ws.ctx, "root", path.dirname(f)), { recursive: true });
      await copyFile(f, path.join(ws.ctx, "root", f));
    }
    await ws.writeContext({ Dockerfile: "FROM busybox\nCOPY root/ /\nRUN --mount=type=ssh ssh-add -l > /keys; cat /keys; ls -l $SSH_AUTH_SOCK\n" });
  });
  afterAll(() => {
    if (agentEnv?.SSH_AGENT_PID) process.kill(Number(agentEnv.SSH_AGENT_PID));
  });

  it("RUN --mount=type=ssh sees the agent's key through $SSH_AUTH_SOCK; without --ssh the mount is skipped", () => {
    const r = shell(`kiln --root ${sh(ws.root)} build --progress plain --ssh default -o - ${sh(ws.ctx)} | tar -xO ./keys`, agentEnv);
    expect(r.stderr).toMatch(/\/run\/buildkit\/ssh_agent\.0/);
    expect(r.stdout).toContain(fingerprint);
    expect(r.stdout).toContain("kiln-test-key");
    const by = shell(`kiln --root ${sh(ws.root)} build --progress plain --no-cache --ssh default=${sh(agentEnv.SSH_AUTH_SOCK!)} -o - ${sh(ws.ctx)} | tar -xO ./keys`, { SSH_AUTH_SOCK: "" });
    expect(by.stdout).toContain(fingerprint);
    const none = shell(`kiln --root ${sh(ws.root)} build --progress plain --no-cache -o - ${sh(ws.ctx)} | tar -xO ./keys`);
    expect(none.stdout).not.toContain(fingerprint);
    const missing = shell(`kiln --root ${sh(ws.root)} build --ssh default=/nonexistent.sock ${sh(ws.ctx)}`);
    expect(missing.stderr).toMatch(/\/nonexistent\.sock is not an ssh-agent socket/);
  });
});
