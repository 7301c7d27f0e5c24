// RUN's network as `docker build` gives it: outbound access by default
// (--network=default, the host's network with kiln's own /etc/hosts and the
// host's resolv.conf), none and host on request, --add-host lines in
// /etc/hosts, and a hint when a RUN fails without a network.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("build --network and --add-host", () => {
  const ws = useWorkspace({ busybox: true, name: "net" });
  let server: ChildProcess;
  const port = 20000 + (process.pid % 20000);
  beforeAll(async () => {
    await requireBuilt("src/cli/parse-build-flags.ts", "src/exec/runtime-spec.ts");
    // A loopback HTTP server in its own process (the CLI runs synchronously here).
    await writeFile(path.join(ws.work, "hello.txt"), "hello over http\n");
    server = spawn("busybox", ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", ws.work], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(() => {
    server?.kill();
  });
  const build = (name: string, dockerfile: string, flags: string) =>
    shell(`mkdir -p ${sh(path.join(ws.work, name))} && printf '%s\\n' ${sh(dockerfile)} > ${sh(path.join(ws.work, name, "Dockerfile"))} && kiln --root ${sh(ws.root)} build --progress plain ${flags} ${sh(path.join(ws.work, name))}`);

  it("the default (and --network=default) gives RUN the network: a fetch from a loopback server works", () => {
    const df = `FROM busybox\nRUN wget -q -O /got http://127.0.0.1:${port}/hello.txt && cat /got`;
    for (const flags of ["-t net:1", "--network=default -t net:2 --no-cache"]) {
      const r = build("fetch", df, flags);
      expect(r.stderr).toMatch(/hello over http/);
      expect(r.code, r.stderr).toBe(0);
    }
    const host = build("fetch", df, "--network host --no-cache");
    expect(host.code, host.stderr).toBe(0);
  });

  it("--network=none: the RUN fails and the error says the step had no network", () => {
    const r = build("nonet", `FROM busybox\nRUN wget -q -O /got http://127.0.0.1:${port}/hello.txt`, "--network=none");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not complete successfully: exit code 1 — the step ran with network "none" \(no network access\)/);
    expect(shell(`kiln --root ${sh(ws.root)} build --network bridge .`).stderr).toMatch(/--network must be default, host, none or slirp4netns, not "bridge"/);
  });

  it("--add-host NAME:IP lines are in RUN's /etc/hosts, with localhost; the host's own hosts file is not", () => {
    const r = build("hosts", "FROM busybox\nRUN cat /etc/hosts", "--add-host db.internal:10.1.2.3 --add-host=v6.internal:::1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/127\.0\.0\.1\tlocalhost buildkitsandbox/);
    expect(r.stderr).toMatch(/10\.1\.2\.3\tdb\.internal/);
    expect(r.stderr).toMatch(/::1\tv6\.internal/);
    const bad = build("hosts", "FROM busybox", "--add-host nocolon");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --add-host "nocolon": expected NAME:IP/);
  });
});
