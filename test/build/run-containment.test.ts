// Security regression tests for issue 14's "Containment of RUN", through
// `node bin/kiln.js build` on real runc and overlayfs: while a step runs,
// another local user can neither reach its rootfs nor use a setuid-root file
// or a device node of the image through the mount kiln made; the store is
// its owner's only (also one an older kiln left 0755); RUN has Docker's
// seccomp profile and capability set, with the opt-outs; and the limits
// flags reach the container.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, requireBuilt } from "../helpers/bin.js";
import { kiln, REPO } from "../helpers/kiln.js";
import { writeContext } from "../helpers/workspace.js";
import { ARM64_BUSYBOX, requireArm64Emulation } from "../platform/prerequisites.js";

// Another local user. setpriv itself looks up the program it execs with
// root's privileges still in effect: the command runs under sh (as nobody).
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", '"$0" "$@"'];
// Docker's default capability set (CHOWN … AUDIT_WRITE) as /proc/PID/status prints it.
const DOCKER_CAPEFF = "00000000a80425fb";

let parent: string;
let root: string;

beforeAll(async () => {
  await requireBuilt("src/exec/run-container.ts", "src/exec/runtime-spec.ts", "src/snapshot/overlay.ts", "src/store/store.ts", "src/cli/parse-sandbox.ts");
  for (const tool of ["setpriv", "unshare"]) if (spawnSync(tool, ["--version"]).error) throw new Error(`${tool} is missing (util-linux)`);
  // The store's parent is open to everyone, as a home directory or
  // /var/lib often is: only the store's own modes keep other users out.
  parent = await mkdtemp(path.join(tmpdir(), "kiln-contain-"));
  await chmod(parent, 0o755);
  root = path.join(parent, "store");
  const tarball = path.join(parent, "busybox.tar.gz");
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball]);
  const r = await kiln(["--root", root, "import", tarball, "busybox:latest"]);
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
});
afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
});

interface Built {
  code: number;
  out: string;
}

function startBuild(ctx: string, flags: string[] = []): { done: Promise<Built> } {
  const cache = flags.includes("--cache") ? [] : ["--no-cache"];
  const child = spawn("node", [BIN, "--root", root, "build", "--progress", "plain", ...cache, ...flags.filter((f) => f !== "--cache"), ctx], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return { done: new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, out }))) };
}

async function build(files: Record<string, string>, flags: string[] = []): Promise<Built> {
  const ctx = await writeContext(await mkdtemp(path.join(parent, "ctx-")), files);
  return startBuild(ctx, flags).done;
}

/** The step's output lines (`#2 0.123 text` -> `text`). */
function stepOutput(out: string): string[] {
  return out.split("\n").flatMap((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1] ?? []);
}

/** Mount points and per-mount options of the overlays kiln has mounted under the store's tmp/. */
function storeMounts(): { point: string; options: string[] }[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[4]?.startsWith(path.join(root, "tmp") + "/"))
    .map((f) => ({ point: f[4]!, options: f[5]!.split(",") }));
}

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a running step's rootfs, seen from the host", () => {
  it("is mounted nosuid,nodev inside a 0700 store: another user can't reach it, its setuid-root file gives no euid 0, its device node does not open", async () => {
    const ctx = await writeContext(await mkdtemp(path.join(parent, "ctx-")), {
      Dockerfile: [
        "FROM busybox",
        "COPY id /usr/local/bin/id",
        // A setuid-root program and a device node (/dev/zero's numbers) in
        // the image; the step then waits for the test, at most 60 s.
        "RUN chmod 4755 /usr/local/bin/id && mknod /zero c 1 5 && touch /ready && i=0; while [ ! -e /tmp/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; rm -f /ready /tmp/go",
      ].join("\n"),
    });
    // The host's own id(1): dynamically linked against the host's libc, so
    // it runs from the host through the mount (not inside the image).
    await copyFile("/usr/bin/id", path.join(ctx, "id"));
    const b = startBuild(ctx);
    const mount = await until("the RUN step's rootfs", () => storeMounts().find((m) => existsSync(path.join(m.point, "ready"))));
    try {
      expect(mount.options).toEqual(expect.arrayContaining(["nosuid", "nodev"]));
      // The store and its working folders are the owner's only.
      for (const dir of [root, path.join(root, "tmp"), path.join(root, "snapshots")]) expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const byPath = spawnSync("setpriv", [...NOBODY, path.join(mount.point, "usr/local/bin/id"), "-u"], { encoding: "utf8" });
      expect(byPath.status).not.toBe(0);
      expect(byPath.stderr).toMatch(/Permission denied/);
      // Even handed the file (an open descriptor skips the path's modes), the
      // nosuid mount runs it with the caller's own ids, not root's.
      const fd = openSync(path.join(mount.point, "usr/local/bin/id"), "r");
      try {
        const byFd = spawnSync("setpriv", [...NOBODY, "/proc/self/fd/3", "-u"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe", fd] });
        expect(byFd.stderr).toBe("");
        expect(byFd.stdout.trim()).toBe("65534");
      } finally {
        closeSync(fd);
      }
      // nodev: the image's device node does not open on the host, not even for root.
      expect(() => closeSync(openSync(path.join(mount.point, "zero"), "r"))).toThrow(/EACCES/);
    } finally {
      await writeFile(path.join(mount.point, "tmp/go"), "");
    }
    const r = await b.done;
    expect(r.out).not.toMatch(/error/);
    expect(r.code).toBe(0);
  });

  it("inside the container, setuid and devices work as under Docker: / is mounted without nosuid,nodev, and / is 0755 for a non-root USER", async () => {
    const r = await build({
      Dockerfile: "FROM busybox\nUSER app\nRUN grep ' / / ' /proc/self/mountinfo | cut -d' ' -f6; stat -c %a /; ls / | grep -c etc",
    });
    expect(r.code).toBe(0);
    const [opts, mode, found] = stepOutput(r.out);
    expect(opts!.split(",")).not.toContain("nosuid");
    expect(opts!.split(",")).not.toContain("nodev");
    expect(mode).toBe("755");
    expect(found).toBe("1");
  });

  it("a store an older kiln left 0755 is closed up when next opened", async () => {
    for (const dir of [root, path.join(root, "tmp"), path.join(root, "snapshots"), path.join(root, "cache")]) chmodSync(dir, 0o755);
    const r = await kiln(["--root", root, "images"]);
    expect(r.code).toBe(0);
    for (const dir of [root, path.join(root, "tmp"), path.join(root, "snapshots"), path.join(root, "cache")]) expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(spawnSync("setpriv", [...NOBODY, "ls", root]).status).not.toBe(0);
  });
});

describe("seccomp and capabilities", () => {
  const probe = "grep -E '^(Seccomp|CapEff|CapBnd):' /proc/self/status; unshare -Urm true 2>/dev/null && echo unshare-works || echo unshare-denied";

  it("RUN has Docker's default seccomp profile and capability set: unshare -Urm is refused, while chown, mknod and su still work", async () => {
    const r = await build({
      Dockerfile: `FROM busybox\nRUN ${probe}\nRUN touch /f && chown 1000:1000 /f && stat -c %u:%g /f && mknod /null c 1 3 && su -s /bin/sh app -c 'id -u' && cp /bin/busybox /b && chmod 4755 /b && stat -c %a /b`,
    });
    expect(r.code).toBe(0);
    const lines = stepOutput(r.out);
    expect(lines).toEqual(expect.arrayContaining(["Seccomp:\t2", `CapEff:\t${DOCKER_CAPEFF}`, `CapBnd:\t${DOCKER_CAPEFF}`, "unshare-denied", "1000:1000", "1000", "4755"]));
  });

  it("a foreign platform under qemu-user gets the filter for the host's arch (qemu makes the syscalls) and still runs", async () => {
    await requireArm64Emulation();
    const tarball = path.join(parent, "busybox-arm64.tar.gz");
    execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball, ARM64_BUSYBOX]);
    const imported = await kiln(["--root", root, "import", "--platform", "linux/arm64", tarball, "busybox:arm64"]);
    expect(imported.code).toBe(0);
    const r = await build({ Dockerfile: `FROM busybox:arm64\nRUN uname -m; touch /f && chown 1000 /f && ${probe}` }, ["--platform", "linux/arm64"]);
    expect(r.code).toBe(0);
    expect(stepOutput(r.out)).toEqual(expect.arrayContaining(["aarch64", "Seccomp:\t2", `CapEff:\t${DOCKER_CAPEFF}`, "unshare-denied"]));
  });

  it("--security-opt seccomp=unconfined turns the filter off (capabilities stay Docker's)", async () => {
    const r = await build({ Dockerfile: `FROM busybox\nRUN ${probe}` }, ["--security-opt", "seccomp=unconfined"]);
    expect(r.code).toBe(0);
    expect(stepOutput(r.out)).toEqual(expect.arrayContaining(["Seccomp:\t0", `CapEff:\t${DOCKER_CAPEFF}`, "unshare-works"]));
  });

  it("RUN --security=insecure is refused without --allow security.insecure, naming the line; with it the step is unconfined", async () => {
    const df = `FROM busybox\nRUN echo first\nRUN --security=insecure ${probe}`;
    const refused = await build({ Dockerfile: df });
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/Dockerfile:3: RUN --security=insecure is not allowed/);
    expect(refused.out).toMatch(/--allow security\.insecure/);
    const allowed = await build({ Dockerfile: df }, ["--allow", "security.insecure"]);
    expect(allowed.code).toBe(0);
    const lines = stepOutput(allowed.out);
    expect(lines).toEqual(expect.arrayContaining(["Seccomp:\t0", "unshare-works"]));
    const capEff = lines.find((l) => l.startsWith("CapEff:"))!.split("\t")[1]!;
    // Every capability kiln holds, CAP_SYS_ADMIN (bit 21) among them.
    expect((BigInt(`0x${capEff}`) >> 21n) & 1n).toBe(1n);
    // The other steps of that build stay in the sandbox.
    const sandboxed = await build({ Dockerfile: `FROM busybox\nRUN ${probe}` }, ["--allow", "security.insecure"]);
    expect(stepOutput(sandboxed.out)).toContain("Seccomp:\t2");
  });

  it("an unknown RUN --security mode or --security-opt is a clear error", async () => {
    const bad = await build({ Dockerfile: "FROM busybox\nRUN --security=privileged true" });
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/Dockerfile:2: unsupported security mode "privileged"/);
    const opt = await build({ Dockerfile: "FROM busybox\nRUN true" }, ["--security-opt", "apparmor=unconfined"]);
    expect(opt.code).toBe(2);
    expect(opt.out).toMatch(/--security-opt apparmor=unconfined: kiln supports only seccomp=unconfined/);
  });
});

describe("limits", () => {
  it("--ulimit sets RUN's rlimits, --shm-size its /dev/shm, --pids-limit bounds its processes", async () => {
    const r = await build(
      {
        Dockerfile: [
          "FROM busybox",
          // 30 sleepers against a limit of 20 pids: a fork fails (and ends the
          // subshell, as busybox sh does); the step's end stops the sleepers.
          "RUN ulimit -Sn; ulimit -Hn; ulimit -c; df -k /dev/shm | tail -1 | awk '{print \"shm \" $2}'; (for i in $(seq 30); do sleep 1 & done) 2>/tmp/err; echo \"forks refused: $(grep -c \"can't fork\" /tmp/err)\"",
        ].join("\n"),
      },
      ["--ulimit", "nofile=100:200", "--ulimit", "core=-1", "--shm-size", "128m", "--pids-limit", "20"],
    );
    expect(r.code).toBe(0);
    const lines = stepOutput(r.out);
    expect(lines.slice(0, 4)).toEqual(["100", "200", "unlimited", "shm 131072"]);
    const refused = Number(/forks refused: (\d+)/.exec(r.out)?.[1]);
    expect(refused).toBeGreaterThan(0);
  });

  it("the limits are part of the step: other limits run it again, the same ones hit the cache", async () => {
    const ctx = await writeContext(await mkdtemp(path.join(parent, "ctx-")), { Dockerfile: "FROM busybox\nRUN ulimit -n > /limit; cat /limit" });
    const first = await startBuild(ctx, ["--cache", "--ulimit", "nofile=300"]).done;
    expect(stepOutput(first.out)).toEqual(["300"]);
    const again = await startBuild(ctx, ["--cache", "--ulimit", "nofile=300"]).done;
    expect(again.out).toMatch(/1 cached/);
    const other = await startBuild(ctx, ["--cache", "--ulimit", "nofile=400"]).done;
    expect(stepOutput(other.out)).toEqual(["400"]);
  });

  it("without the flags: /dev/shm is Docker's 64m and 30 processes start", async () => {
    const r = await build({
      Dockerfile: "FROM busybox\nRUN df -k /dev/shm | tail -1 | awk '{print \"shm \" $2}'; (for i in $(seq 30); do sleep 1 & done) 2>/tmp/err; echo \"forks refused: $(grep -c \"can't fork\" /tmp/err)\"",
    });
    expect(r.code).toBe(0);
    expect(stepOutput(r.out)).toEqual(["shm 65536", "forks refused: 0"]);
  });

  it("bad limits are usage errors that say what is expected", async () => {
    const cases: [string[], RegExp][] = [
      [["--ulimit", "nofile"], /--ulimit nofile: expected NAME=SOFT\[:HARD\]/],
      [["--ulimit", "files=10"], /unknown limit "files"/],
      [["--ulimit", "nofile=200:100"], /soft limit must not exceed the hard limit/],
      [["--shm-size", "0"], /--shm-size 0: expected a size greater than 0/],
      [["--shm-size", "lots"], /--shm-size lots/],
      [["--pids-limit", "many"], /--pids-limit many: expected a whole number/],
      [["--allow", "device"], /--allow device: expected security.insecure or network.host/],
    ];
    const ctx = await writeContext(await mkdtemp(path.join(parent, "ctx-")), { Dockerfile: "FROM busybox\nRUN true" });
    for (const [flags, msg] of cases) {
      // In-process (the code bin/kiln.js runs): no step runs, so no need for a process each.
      const r = await kiln(["--root", root, "build", ...flags, ctx]);
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
