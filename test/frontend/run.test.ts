// RUN heredocs (BuildKit semantics), --mount=bind|cache|tmpfs|secret and
// --network, built end to end with runc over overlayfs.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { allLayerBytes, buildIn, ociConfig } from "./helpers.js";

describe("RUN", () => {
  const ws = useWorkspace({ busybox: true, name: "run" });
  const build = (name: string, df: string, files: Record<string, string> = {}, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    buildIn(ws.root, ws.work, name, df, files, extra, env);

  it("heredocs: a body run by the shell, a #! script, a command with a heredoc, <<- and a quoted delimiter", async () => {
    const df = [
      "FROM busybox:latest",
      "ENV WHO=world",
      "RUN <<EOF",
      "echo one > /one",
      "echo \"hello $WHO\" >> /one",
      "EOF",
      "RUN <<EOF",
      "#!/bin/sh",
      "echo \"script $0\" > /two",
      "EOF",
      "RUN cat <<'EOT' > /three",
      "literal $WHO",
      "EOT",
      "RUN cat <<EOT > /four",
      "expanded $WHO",
      "EOT",
      "RUN <<-EOF",
      "\techo tabs > /five",
      "\tEOF",
      "RUN cat <<A > /six; cat <<B >> /six",
      "a",
      "A",
      "b",
      "B",
    ].join("\n");
    const r = await build("heredoc", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "one"), "utf8")).toBe("one\nhello world\n");
    expect(await readFile(path.join(r.out, "two"), "utf8")).toBe("script /dev/pipes/EOF\n");
    expect(await readFile(path.join(r.out, "three"), "utf8")).toBe("literal $WHO\n");
    expect(await readFile(path.join(r.out, "four"), "utf8")).toBe("expanded world\n");
    expect(await readFile(path.join(r.out, "five"), "utf8")).toBe("tabs\n");
    expect(await readFile(path.join(r.out, "six"), "utf8")).toBe("a\nb\n");
    expect(existsSync(path.join(r.out, "dev/pipes"))).toBe(false);
  });

  it("--mount=type=bind: the context read-only by default; rw writes are discarded; .dockerignore applies", async () => {
    const df = [
      "FROM busybox:latest",
      "RUN --mount=type=bind,target=/src cat /src/a.txt > /copied && (ls /src/secret.key 2>/dev/null || echo ignored > /ign) && (touch /src/x 2>/dev/null && echo writable > /ro || echo readonly > /ro)",
      "RUN --mount=type=bind,source=sub,target=/s,rw echo changed > /s/b.txt && cat /s/b.txt > /rw",
      "RUN --mount=type=bind,source=a.txt,target=/etc/a.txt cat /etc/a.txt > /single",
    ].join("\n");
    const r = await build("bind", df, { "a.txt": "A\n", "sub/b.txt": "B\n", "secret.key": "K", ".dockerignore": "secret.key\n" });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "copied"), "utf8")).toBe("A\n");
    expect(await readFile(path.join(r.out, "ign"), "utf8")).toBe("ignored\n");
    expect(await readFile(path.join(r.out, "ro"), "utf8")).toBe("readonly\n");
    expect(await readFile(path.join(r.out, "rw"), "utf8")).toBe("changed\n");
    expect(await readFile(path.join(r.ctx, "sub/b.txt"), "utf8")).toBe("B\n");
    expect(await readFile(path.join(r.out, "single"), "utf8")).toBe("A\n");
    // Mount points the runtime needed are not in the image.
    for (const p of ["src", "s", "etc/a.txt"]) expect(existsSync(path.join(r.out, p))).toBe(false);
  });

  it("--mount=type=cache persists between builds (id, uid/gid, mode) and never reaches the image", async () => {
    const df = [
      "FROM busybox:latest",
      "ARG N",
      "RUN --mount=type=cache,target=/cache,id=kiln-test-cache,uid=1000,gid=1000,mode=0750 echo $N >> /cache/log && cat /cache/log > /seen && stat -c '%u:%g %a' /cache > /meta",
    ].join("\n");
    const a = await build("cache1", df, {}, ["--build-arg", "N=1"]);
    expect(a.code).toBe(0);
    const b = await build("cache2", df, {}, ["--build-arg", "N=2"]);
    expect(b.code).toBe(0);
    expect(await readFile(path.join(b.out, "seen"), "utf8")).toBe("1\n2\n");
    expect(await readFile(path.join(b.out, "meta"), "utf8")).toBe("1000:1000 750\n");
    expect(existsSync(path.join(b.out, "cache"))).toBe(false);
  });

  it("--mount=type=tmpfs gives an empty, writable, unpersisted dir", async () => {
    const df = ["FROM busybox:latest", "RUN --mount=type=tmpfs,target=/scratch,size=1m echo x > /scratch/f && grep -q ' /scratch tmpfs' /proc/mounts && echo ok > /tmpfs-ok"].join("\n");
    const r = await build("tmpfs", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect(await readFile(path.join(r.out, "tmpfs-ok"), "utf8")).toBe("ok\n");
    expect(existsSync(path.join(r.out, "scratch"))).toBe(false);
  });

  it("--mount=type=secret from a file and from an env var; never in a layer, the config, or the log", async () => {
    const secretFile = path.join(ws.work, "token.txt");
    await writeFile(secretFile, "s3cr3t-FILE-value");
    const df = [
      "FROM busybox:latest",
      "RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && stat -c '%a' /run/secrets/tok > /mode",
      "RUN --mount=type=secret,id=api,target=/etc/api-key,mode=0444,uid=1000 cat /etc/api-key | wc -c > /len2 && stat -c '%u %a' /etc/api-key > /meta2",
      "RUN --mount=type=secret,id=api,env=API_KEY --mount=type=secret,id=api,target=/k test \"$API_KEY\" = \"$(cat /k)\" && test -n \"$API_KEY\" && echo yes > /env-ok",
      "RUN --mount=type=secret,id=missing test ! -e /run/secrets/missing && echo skipped > /optional",
    ].join("\n");
    const r = await build("secret", df, {}, ["--secret", `id=tok,src=${secretFile}`, "--secret", "id=api,env=KILN_TEST_API"], { KILN_TEST_API: "s3cr3t-ENV-value" });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect((await readFile(path.join(r.out, "len"), "utf8")).trim()).toBe("17");
    expect((await readFile(path.join(r.out, "mode"), "utf8")).trim()).toBe("400");
    expect((await readFile(path.join(r.out, "len2"), "utf8")).trim()).toBe("16");
    expect((await readFile(path.join(r.out, "meta2"), "utf8")).trim()).toBe("1000 444");
    expect(await readFile(path.join(r.out, "env-ok"), "utf8")).toBe("yes\n");
    expect(await readFile(path.join(r.out, "optional"), "utf8")).toBe("skipped\n");
    expect(existsSync(path.join(r.out, "run/secrets"))).toBe(false);
    expect(existsSync(path.join(r.out, "etc/api-key"))).toBe(false);
    const layers = await allLayerBytes(r.oci);
    expect(layers.includes("s3cr3t")).toBe(false);
    expect(JSON.stringify(await ociConfig(r.oci))).not.toMatch(/s3cr3t/);
    expect(r.stdout + r.stderr).not.toMatch(/s3cr3t/);
  });

  it("a required secret that was not given fails with the line and a hint", async () => {
    const r = await build("secret-req", ["FROM busybox:latest", "RUN --mount=type=secret,id=npm,required=true true"].join("\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2/);
    expect(r.stderr).toMatch(/secret npm: not found — the mount says required=true/);
    expect(r.stderr).toMatch(/--secret id=npm/);
  });

  it("--network=none has only lo; --network=host sees the host's interfaces; bad values are errors", async () => {
    const df = [
      "FROM busybox:latest",
      "RUN --network=none ls /sys/class/net > /none",
      "RUN --network=host ls /sys/class/net > /host",
    ].join("\n");
    const r = await build("net", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect((await readFile(path.join(r.out, "none"), "utf8")).trim()).toBe("lo");
    expect((await readFile(path.join(r.out, "host"), "utf8")).trim().split("\n").length).toBeGreaterThanOrEqual(1);
    const bad = await build("net-bad", ["FROM busybox:latest", "RUN --network=bridge true"].join("\n"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Dockerfile:2: unsupported network mode "bridge"/);
  });

  it("unknown mount options and types are errors at the RUN line", async () => {
    const r = await build("mount-bad", ["FROM busybox:latest", "RUN --mount=type=cache,target=/c,colour=blue true"].join("\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2: --mount=type=cache,target=\/c,colour=blue: unexpected key 'colour'/);
    void kiln;
  });
});
