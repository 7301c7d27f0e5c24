import { mkdtemp, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runContainer } from "../../src/exec/run-container.js";
import { resolveUser } from "../../src/exec/user.js";
import { makeBusyboxRootfs } from "../helpers/busybox-rootfs.js";

function collect() {
  const s = new PassThrough();
  const chunks: Buffer[] = [];
  s.on("data", (c: Buffer) => chunks.push(c));
  return { stream: s, text: () => Buffer.concat(chunks).toString() };
}

describe("runContainer (real runc)", () => {
  let rootfs: string;
  beforeAll(async () => {
    rootfs = await mkdtemp(path.join(tmpdir(), "kiln-rootfs-"));
    await makeBusyboxRootfs(rootfs);
  });
  afterAll(async () => rm(rootfs, { recursive: true, force: true }));

  it("runs as the resolved user in the working directory with the given env, and cleans its mount stubs", async () => {
    const out = collect();
    const err = collect();
    const user = await resolveUser(rootfs, "app");
    // The primary group first (CVE-2023-25173: it is always a supplementary group), then the groups listing the user.
    expect(user).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    const r = await runContainer({
      rootfs,
      process: { args: ["/bin/sh", "-c", "id -u; id -g; pwd; echo $GREETING; cat /etc/hosts | head -1"], env: ["PATH=/bin", "GREETING=hi there"], cwd: "/tmp", user },
      network: "none",
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(err.text()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(out.text().split("\n").slice(0, 4)).toEqual(["1000", "1000", "/tmp", "hi there"]);
    expect(out.text()).toContain("localhost");
    // runc needed /proc, /dev, /sys, /etc/hosts, /etc/resolv.conf: none stays behind.
    for (const stub of ["proc", "dev", "sys", "etc/hosts", "etc/resolv.conf"]) expect(existsSync(path.join(rootfs, stub))).toBe(false);
    expect((await readdir(rootfs)).sort()).toEqual(["bin", "etc", "home", "root", "tmp", "usr", "var"]);
  });

  it("reports the command's own exit code", async () => {
    const r = await runContainer({
      rootfs,
      process: { args: ["/bin/sh", "-c", "exit 7"], env: ["PATH=/bin"], cwd: "/", user: await resolveUser(rootfs, "0") },
      network: "none",
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    });
    expect(r.exitCode).toBe(7);
  });

  it("network none has only loopback; host sees the host's interfaces", async () => {
    const run = async (network: "none" | "host") => {
      const out = collect();
      await runContainer({
        rootfs,
        process: { args: ["/bin/sh", "-c", "ls /sys/class/net"], env: ["PATH=/bin"], cwd: "/", user: await resolveUser(rootfs, "root") },
        network,
        stdout: out.stream,
        stderr: new PassThrough(),
      });
      return out.text().split(/\s+/).filter(Boolean);
    };
    expect(await run("none")).toEqual(["lo"]);
    expect((await run("host")).length).toBeGreaterThan(1);
  });

  it("a runtime that cannot start says so clearly instead of a bare exit 1", async () => {
    const p = runContainer({
      rootfs,
      process: { args: ["/bin/true"], env: ["PATH=/bin"], cwd: "/", user: await resolveUser(rootfs, "root") },
      network: "none",
      runtime: "crun",
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    });
    // crun 1.8 on a cgroup v1/v2 hybrid machine refuses to start; on others it runs.
    const result = await p.then(
      (r) => ({ ok: true as const, r }),
      (e: Error & { code?: string }) => ({ ok: false as const, e }),
    );
    if (result.ok) expect(result.r.exitCode).toBe(0);
    else {
      expect(result.e.code).toBe("RUNTIME_FAILED");
      expect(result.e.message).toMatch(/crun failed to start the container: .+/);
    }
  });

  it("an unknown user name is an error naming the user", async () => {
    await expect(resolveUser(rootfs, "ghost")).rejects.toThrow(/unable to find user ghost/);
  });

  it("a missing runtime binary is a clear error", async () => {
    const old = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(
        runContainer({ rootfs, process: { args: ["/bin/true"], env: [], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [], home: "/" } }, network: "none", stdout: new PassThrough(), stderr: new PassThrough() }),
      ).rejects.toThrow(/no OCI runtime found: "runc" is not on PATH/);
    } finally {
      process.env.PATH = old;
    }
  });
});
