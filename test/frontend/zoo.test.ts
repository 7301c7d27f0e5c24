// The syntax zoo (testdata/zoo): every instruction and flag kiln
// implements in one stage, built end to end with runc over overlayfs, the
// config and the rootfs asserted field by field. Needs the build.ts wiring
// for HEALTHCHECK/ONBUILD/MAINTAINER and --secret.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, cp, lstat, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { allLayerBytes, listTree, ociConfig } from "./helpers.js";

const ASSET = "remote asset\n";
const TOKEN = "zoo-token-value-42";

describe("syntax zoo", () => {
  const ws = useWorkspace({ busybox: true, name: "zoo" });
  let server: Server;
  let result: { code: number; stdout: string; stderr: string };
  let out: string;
  let oci: string;
  let config: Record<string, any>;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/asset.txt") {
        res.writeHead(200, { "last-modified": new Date("2020-01-02T03:04:05Z").toUTCString() });
        res.end(ASSET);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/asset.txt`;
    // A copy of the context with fixed modes, whatever umask checked it out.
    const ctx = ws.ctx;
    await cp(path.join(REPO, "testdata/zoo"), ctx, { recursive: true });
    const fix = async (d: string): Promise<void> => {
      await chmod(d, 0o755);
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await fix(path.join(d, e.name));
        else await chmod(path.join(d, e.name), 0o644);
      }
    };
    await fix(ctx);
    const secret = path.join(ws.work, "token");
    await writeFile(secret, TOKEN);
    out = path.join(ws.work, "rootfs");
    oci = path.join(ws.work, "oci");
    result = await kiln([
      "--root", ws.root, "build", "--progress", "plain",
      "--build-arg", `ASSET_URL=${url}`,
      "--build-arg", `ASSET_SUM=sha256:${createHash("sha256").update(ASSET).digest("hex")}`,
      "--secret", `id=zoo_token,src=${secret}`,
      "--output", `type=local,dest=${out}`,
      "--output", `type=oci,dest=${oci},tar=false`,
      ctx,
    ]);
    if (result.code === 0) config = await ociConfig(oci);
  }, 120_000);
  afterAll(async () => {
    server.close();
  });

  it("builds", () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
  });

  it("config: every field", () => {
    const c = config.config;
    expect(config.author).toBe("Kiln Zoo <zoo@example.com>");
    expect(config.os).toBe("linux");
    expect(c.Env).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "APP_HOME=/srv/app",
      "LEGACY_FORM=unused",
      "GREETING=hello from the zoo",
      "DERIVED=/srv/app/bin",
    ]);
    expect(c.Labels).toEqual({ "org.opencontainers.image.version": "1.0", "com.example.multi word": "a b", zoo: "yes" });
    expect(c.WorkingDir).toBe("/srv/app/data");
    expect(c.Shell).toEqual(["/bin/sh", "-c"]);
    expect(c.ExposedPorts).toEqual({ "8080/tcp": {}, "53/udp": {} });
    expect(c.Volumes).toEqual({ "/srv/app/state": {}, "/srv/app/logs": {} });
    expect(c.User).toBe("1000:1000");
    expect(c.StopSignal).toBe("SIGQUIT");
    expect(c.Healthcheck).toEqual({
      Test: ["CMD", "/bin/sh", "-c", "test -f /srv/app/data/greeting"],
      Interval: 30e9,
      Timeout: 5e9,
      StartPeriod: 2e9,
      StartInterval: 1e9,
      Retries: 3,
    });
    expect(c.OnBuild).toEqual(["RUN echo child build"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c"]);
    expect(c.Cmd).toEqual(["cat /srv/app/data/greeting"]);
  });

  it("history: one entry per instruction, layers only for filesystem steps, no secret", () => {
    const h = config.history.slice(1); // after the base image's entry
    const byPrefix = (p: string) => h.filter((e: any) => e.created_by.startsWith(p));
    expect(byPrefix("MAINTAINER")).toHaveLength(1);
    expect(byPrefix("HEALTHCHECK")).toHaveLength(1);
    // ONBUILD is config only: BuildKit's frontend commits no history entry for it.
    expect(byPrefix("ONBUILD")).toHaveLength(0);
    const layers = h.filter((e: any) => !e.empty_layer).length;
    expect(config.rootfs.diff_ids.length).toBe(layers + 1);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  it("rootfs: RUN heredocs, COPY heredocs, modes, owners, exclude, parents, ADD URL, mounts", async () => {
    const f = (p: string) => readFile(path.join(out, p), "utf8");
    const mode = async (p: string) => ((await stat(path.join(out, p))).mode & 0o7777).toString(8);
    const owner = async (p: string) => {
      const s = await lstat(path.join(out, p));
      return `${s.uid}:${s.gid}`;
    };
    expect(await f("srv/app/data/greeting")).toBe("hello from the zoo\nversion 1.0\n");
    expect(await f("srv/app/data/script-path")).toBe("script at /dev/pipes/EOF\n");
    expect(await f("srv/app/data/raw.txt")).toBe("literal $GREETING\n");
    expect(await f("srv/app/etc/EOF")).toBe("version=1.0\n");
    expect(await f("srv/app/etc/NOEXP")).toBe("kept=$VERSION\n");
    expect(await mode("srv/app/etc/EOF")).toBe("644");
    expect(await f("srv/app/etc/app.conf")).toBe("config=1\n");
    expect(await mode("srv/app/etc/app.conf")).toBe("750");
    expect(await owner("srv/app/etc/app.conf")).toBe("1000:1000");
    expect(await mode("srv/app/bin/main.c")).toBe("744");
    expect(await listTree(path.join(out, "srv/app/src"))).toEqual(["lib", "lib/util.c", "main.c"]);
    expect(await listTree(path.join(out, "srv/app/tree"))).toEqual(["docs", "docs/guide.txt", "src", "src/lib", "src/lib/util.c"]);
    expect(await f("srv/app/asset.txt")).toBe(ASSET);
    expect(await mode("srv/app/asset.txt")).toBe("600");
    expect((await stat(path.join(out, "srv/app/asset.txt"))).mtime.toISOString()).toBe("2020-01-02T03:04:05.000Z");
    expect(await owner("home/app/app.conf")).toBe("1000:1000");
    expect(await f("srv/app/data/bind-list")).toBe("NOTES.md\nlib\nmain.c\n");
    expect(await f("srv/app/data/token-length")).toBe(`${TOKEN.length}\n`);
    expect(await f("srv/app/data/net")).toBe("lo\n");
    // Mount points and secrets never reach the image; .dockerignore'd files neither.
    for (const p of ["mnt", "scratch", "var/cache/zoo", "run/secrets", "dev/pipes"]) expect(existsSync(path.join(out, p)), p).toBe(false);
    expect((await allLayerBytes(oci)).includes(TOKEN)).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it("kiln build --check on the zoo: only the rules it does not skip", async () => {
    const r = await kiln(["--root", ws.root, "build", "--check", path.join(REPO, "testdata/zoo")]);
    const rules = [...r.stderr.matchAll(/^WARNING: (\w+)/gm)].map((m) => m[1]);
    expect(rules).toEqual(["WorkdirRelativePath"]);
    // As `docker build --check` (buildx): any warning makes the exit code 1, so CI can gate on it.
    expect(r.stderr).toMatch(/^Check complete, 1 warning has been found!$/m);
    expect(r.code).toBe(1);
  });
});
