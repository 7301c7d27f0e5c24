// kiln without root: the same builds run as an ordinary user (kilntest,
// made with subordinate ids by `KILN_SETUP_TESTS=1 scripts/setup.sh`) and as
// root, each with its own store, and must give the same image digests
// (SOURCE_DATE_EPOCH set): chown'd and setuid files, opaque dirs and
// whiteouts, USER steps, a second stage, arm64 under qemu, a push. The user
// runs the real CLI (bin/kiln.js) through runuser, so it re-executes itself
// in a user namespace exactly as it would for anyone. Nothing here skips: a
// missing user, subid range or tool fails with the command that fixes it.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/bin.js";
import { REPO } from "../helpers/kiln.js";
import { ARM64_BUSYBOX, requireArm64Emulation } from "../platform/prerequisites.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

const run = promisify(execFile);
const USER = "kilntest";
const EPOCH = "1700000000";
const SETUP = "run KILN_SETUP_TESTS=1 bash scripts/setup.sh as root";

interface Who {
  readonly name: "root" | typeof USER;
  /** kiln's store: root's by --root, the user's by XDG_DATA_HOME (kiln's default for a non-root user). */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

let work: string;
let uid: number;
let gid: number;
let registry: RegistryServer;
let asUser: Who;
let asRoot: Who;

async function kilnAs(who: Who, args: string[], opts: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  // An ordinary user's PATH, without /usr/sbin where Debian keeps runc (kiln adds it in its namespace).
  const userPath = who.name === "root" ? (process.env.PATH ?? "") : "/usr/local/bin:/usr/bin:/bin";
  const env = { PATH: userPath, SOURCE_DATE_EPOCH: EPOCH, KILN_CONFIG: path.join(work, "config.toml"), ...who.env };
  const argv = [...who.args, ...args];
  const cmd = who.name === "root" ? ["node", BIN, ...argv] : ["runuser", "-u", USER, "--", "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "node", BIN, ...argv];
  try {
    return await run(cmd[0]!, cmd.slice(1), { env: { ...env, PATH: process.env.PATH, HOME: who.name === "root" ? "/root" : `/home/${USER}` }, cwd: opts.cwd ?? work, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; code?: number };
    throw new Error(`kiln ${args.join(" ")} as ${who.name} exited ${e.code}:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** The image ID (config digest) of a tag, as `kiln build --iidfile` wrote it. */
async function build(who: Who, ctx: string, tag: string, extra: string[] = []): Promise<{ id: string; log: string }> {
  const iid = path.join(work, `${who.name}-${tag.replace(/[^a-z0-9]/g, "_")}.iid`);
  const r = await kilnAs(who, ["build", "--progress", "plain", "--iidfile", iid, "-t", tag, ...extra, path.join(work, ctx)]);
  return { id: (await readFile(iid, "utf8")).trim(), log: r.stderr + r.stdout };
}

/** Runs `f` for root and the user at once (two cores), returning [root's, user's]. */
const both = <T>(f: (w: Who) => Promise<T>): Promise<[T, T]> => Promise.all([f(asRoot), f(asUser)]);

beforeAll(async () => {
  try {
    uid = Number(execFileSync("id", ["-u", USER], { encoding: "utf8" }));
    gid = Number(execFileSync("id", ["-g", USER], { encoding: "utf8" }));
  } catch {
    throw new Error(`the rootless tests need the user ${USER}: ${SETUP}`);
  }
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    if (!(await readFile(f, "utf8").catch(() => "")).split("\n").some((l) => l.startsWith(`${USER}:`))) throw new Error(`${USER} has no range in ${f}: ${SETUP}`);
  }
  for (const tool of ["newuidmap", "newgidmap", "fuse-overlayfs", "slirp4netns"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is missing (apt-get install uidmap fuse-overlayfs slirp4netns): ${SETUP}`);
    }
  }
  await requireArm64Emulation();
  // Everything the user reads or writes lives here, owned by the user; the
  // checkout itself only needs to be world-readable (a normal checkout is).
  work = await mkdtemp(path.join(tmpdir(), "kiln-rootless-"));
  await chmod(work, 0o755);
  await writeFile(path.join(work, "config.toml"), '[registry."docker.io"]\nupstream = false\n');
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), path.join(work, "bb-amd64.tar.gz")]);
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), path.join(work, "bb-arm64.tar.gz"), ARM64_BUSYBOX]);
  const files: Record<string, string> = {
    "single/Dockerfile": [
      "FROM busybox:latest",
      "COPY --chown=1000:1000 a.txt /home/app/a.txt",
      "COPY --chown=app:staff --chmod=4750 a.txt /usr/bin/suid-app",
      // Owners from the whole subordinate range, setuid/setgid, a sticky dir,
      // a deleted lower file (whiteout) and a replaced lower dir (opaque).
      "RUN mkdir -p /srv/d && echo hi > /srv/x && chown 1000:50 /srv/x && chmod 4755 /srv/x && chown 65534:65534 /srv/d && chmod 3777 /srv/d && rm /etc/group && rm -rf /home/app && mkdir /home/app && touch /home/app/new && id -u > /srv/uid",
      "USER app",
      "RUN id > /tmp/who && touch /tmp/by-app",
      "USER root",
      "RUN test \"$(stat -c %u:%g /tmp/by-app)\" = 1000:1000",
    ].join("\n"),
    "single/a.txt": "a\n",
    "multi/Dockerfile": [
      "FROM busybox:latest AS tools",
      "RUN mkdir /out && echo built > /out/tool && chown 1000:50 /out/tool && chmod 2755 /out/tool",
      "FROM busybox:latest",
      "COPY --from=tools /out/tool /usr/bin/tool",
      "COPY --from=tools --chown=65534:65534 /out /opt/out",
      "USER 1000:1000",
      "WORKDIR /home/app/w",
      "RUN touch made-by-1000",
    ].join("\n"),
    // slirp4netns: own netns with tap0 and its DNS, the host's loopback (the registry) out of reach; none: only lo.
    "net/Dockerfile": [
      "FROM busybox:latest",
      "ARG PORT",
      'RUN grep -q tap0 /proc/net/dev && grep -qx "nameserver 10.0.2.3" /etc/resolv.conf && ! busybox wget -q -T 3 -O /dev/null "http://10.0.2.2:$PORT/v2/" && echo isolated > /net',
      "RUN --network=none test \"$(grep -c : /proc/net/dev)\" = 1 && echo none >> /net",
    ].join("\n"),
    "arm/Dockerfile": ["FROM busybox:latest", "RUN uname -m > /arch && chown 1000 /arch"].join("\n"),
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(work, rel)), { recursive: true });
    await writeFile(path.join(work, rel), text);
  }
  execFileSync("chown", ["-R", `${uid}:${gid}`, work]);
  registry = await startRegistry();
  asUser = { name: USER, args: [], env: { XDG_DATA_HOME: path.join(work, "xdg") } };
  asRoot = { name: "root", args: ["--root", path.join(work, "root-store")], env: {} };
  await both(async (w) => {
    await kilnAs(w, ["import", "--platform", "linux/amd64", path.join(work, "bb-amd64.tar.gz"), "busybox:latest"]);
    await kilnAs(w, ["import", "--platform", "linux/arm64", path.join(work, "bb-arm64.tar.gz"), "busybox:latest"]);
  });
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("kiln as an ordinary user with subordinate ids", () => {
  it("single-stage build with COPY --chown, chown/setuid in RUN, whiteouts, USER: the root build's image ID", async () => {
    const [root, user] = await both((w) => build(w, "single", "rl/single:1"));
    expect(user.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(user.id).toBe(root.id);
    // The store is the user's, under XDG_DATA_HOME, and its files are theirs on the host.
    const owner = execFileSync("stat", ["-c", "%u", path.join(work, "xdg/kiln/index.json")], { encoding: "utf8" }).trim();
    expect(Number(owner)).toBe(uid);
    // Image uid 1000 is the user's subordinate id start+999 on the host: the ids were mapped, not squashed.
    const start = Number(/^kilntest:(\d+):/m.exec(await readFile("/etc/subuid", "utf8"))![1]);
    const mapped = execFileSync("find", [path.join(work, "xdg/kiln"), "-uid", String(start + 999), "-name", "a.txt"], { encoding: "utf8" });
    expect(mapped).toMatch(/a\.txt/);
  });

  it("a rebuild is all cache hits", async () => {
    const again = await build(asUser, "single", "rl/single:1");
    expect(again.log).toMatch(/0 steps run, \d+ cached/);
  });

  it("multi-stage build with COPY --from --chown and USER 1000: the root build's image ID", async () => {
    const [root, user] = await both((w) => build(w, "multi", "rl/multi:1"));
    expect(user.id).toBe(root.id);
  });

  it("RUN with --network slirp4netns (own netns, outbound, no host loopback) and RUN --network=none: the root build's image ID", async () => {
    const [root, user] = await both((w) => build(w, "net", "rl/net:1", ["--network", "slirp4netns", "--build-arg", `PORT=${registry.port}`]));
    expect(user.id).toBe(root.id);
  });

  it("arm64 RUN under qemu: the root build's image ID", async () => {
    const [root, user] = await both((w) => build(w, "arm", "rl/arm:1", ["--platform", "linux/arm64"]));
    expect(user.id).toBe(root.id);
  });

  it("fuse-overlayfs (KILN_OVERLAY=fuse-overlayfs) gives the kernel overlay's layers", async () => {
    const fuse: Who = { ...asUser, env: { ...asUser.env, KILN_OVERLAY: "fuse-overlayfs" } };
    const [kernel, viaFuse] = await Promise.all([build(asUser, "single", "rl/single:1"), build(fuse, "single", "rl/fuse:1", ["--no-cache"])]);
    expect(viaFuse.id).toBe(kernel.id);
  });

  it("push to the loopback registry: the manifest root pushes", async () => {
    const [root, user] = await both(async (w) => {
      const ref = `${registry.host}/rl/${w.name}:1`;
      await kilnAs(w, ["tag", "rl/multi:1", ref]);
      const r = await kilnAs(w, ["push", ref]);
      const digest = /sha256:[0-9a-f]{64}/.exec(r.stdout + r.stderr)?.[0];
      return { digest, out: r.stdout + r.stderr };
    });
    expect(user.digest, user.out).toBeDefined();
    expect(user.digest).toBe(root.digest);
    // What the registry holds is readable by a client we did not write.
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${registry.host}/rl/${USER}:1`], { encoding: "utf8" })) as { Digest: string };
    expect(inspected.Digest).toBe(user.digest);
  });

  it("kiln info names the rootless mode, the user's subids and the overlay driver", async () => {
    const r = await kilnAs(asUser, ["info"]);
    expect(r.stdout).toMatch(/^mode: +rootless/m);
    expect(r.stdout).toMatch(new RegExp(`^store: +${work}/xdg/kiln$`, "m"));
    expect(r.stdout).toMatch(/^subids: +uids \d+-\d+ \(\/etc\/subuid\); gids \d+-\d+/m);
    expect(r.stdout).toMatch(/^overlay: +kernel overlayfs in the user namespace/m);
    expect(r.stdout).toMatch(/^emulators: +qemu-user for .*aarch64/m);
    expect(r.stdout).not.toMatch(/missing:/);
  });
});

describe("a user without subordinate ids", () => {
  // nobody (65534) has no range in /etc/subuid: every command but info and help stops with the fix.
  const nobody = (args: string[]) =>
    run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", `HOME=${work}/nobody`, "PATH=/usr/bin:/bin", "node", BIN, ...args], { cwd: "/" }).then(
      () => ({ code: 0, stderr: "", stdout: "" }),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );

  it("kiln build fails before touching a store, naming the lines to add to /etc/subuid and /etc/subgid", async () => {
    const r = await nobody(["build", path.join(work, "single")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/user nobody \(uid 65534\) has no subordinate ids in \/etc\/subuid and \/etc\/subgid/);
    expect(r.stderr).toMatch(/add the line "nobody:\d+:65536" to \/etc\/subuid and \/etc\/subgid/);
    expect(r.stderr).toMatch(/usermod --add-subuids \d+-\d+ --add-subgids \d+-\d+ nobody/);
    expect(existsSync(path.join(work, "nobody"))).toBe(false);
  });

  it("kiln info exits 1 and says what is missing", async () => {
    const r = await nobody(["info"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^subids: +uids none/m);
    expect(r.stdout).toMatch(/missing: as root: add "nobody:\d+:65536" to \/etc\/subuid and \/etc\/subgid/);
  });
});
