// COPY/ADD beyond the basics: heredoc sources, symbolic --chmod,
// --exclude, --parents, --link, and ADD of http URLs (a real HTTP server on
// 127.0.0.1) with --checksum and Last-Modified.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChmodSpec } from "../../src/fsutil/chmod-spec.js";
import { buildIn, listTree } from "./helpers.js";
import { useWorkspace } from "../helpers/workspace.js";

const mode = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8);

describe("symbolic --chmod", () => {
  it("applies chmod(1) clauses to a file's own mode", () => {
    const f = (spec: string, m: number, dir = false) => parseChmodSpec(spec)!(m, dir).toString(8);
    expect(f("u+x", 0o644)).toBe("744");
    expect(f("u+x,g-w", 0o664)).toBe("744");
    expect(f("a+X", 0o644)).toBe("644");
    expect(f("a+X", 0o644, true)).toBe("755");
    expect(f("a+X", 0o744)).toBe("755");
    expect(f("go=", 0o755)).toBe("700");
    expect(f("o=u", 0o640)).toBe("646");
    expect(f("+x", 0o600)).toBe("711");
    expect(f("u+s,g=rx", 0o755)).toBe("4755");
    expect(f("0755", 0o600)).toBe("755");
    expect(parseChmodSpec("u+q")).toBeUndefined();
    expect(parseChmodSpec("rwx")).toBeUndefined();
  });
});

describe("COPY and ADD features", () => {
  const ws = useWorkspace({ busybox: true, name: "copyf" });
  let server: Server;
  let base: string;
  const payload = "downloaded bytes\n";
  const payloadSum = `sha256:${createHash("sha256").update(payload).digest("hex")}`;
  const lastModified = new Date("2021-03-04T05:06:07Z");
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/files/tool.sh") {
        res.writeHead(200, { "content-type": "application/octet-stream", "last-modified": lastModified.toUTCString() });
        res.end(payload);
      } else if (req.url === "/redirect") {
        res.writeHead(302, { location: "/files/tool.sh" });
        res.end();
      } else {
        res.writeHead(404);
        res.end("no");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
  });
  const build = (name: string, df: string, files: Record<string, string> = {}) => buildIn(ws.root, ws.work, name, df, files);

  it("COPY heredocs: one file per heredoc, expansion unless quoted (heredoc rules: quotes are text, \\$ and \\\\ escape), <<- strips tabs, --chmod honoured", async () => {
    const df = [
      "FROM busybox:latest",
      "ARG WHO=kiln",
      "COPY <<EOF /etc/greeting",
      "hello $WHO \"quoted\" '$WHO' \\$notvar \\\\",
      "EOF",
      "COPY <<'EOF' /literal",
      "hello $WHO",
      "EOF",
      "COPY --chmod=755 <<-SCRIPT <<INFO /bin/",
      "\t#!/bin/sh",
      "\techo hi",
      "\tSCRIPT",
      "info",
      "INFO",
    ].join("\n");
    const r = await build("heredoc", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "etc/greeting"), "utf8")).toBe("hello kiln \"quoted\" 'kiln' $notvar \\\n"); // BuildKit: quotes are text, escapes apply
    expect(await mode(path.join(r.out, "etc/greeting"))).toBe("644");
    expect(await readFile(path.join(r.out, "literal"), "utf8")).toBe("hello $WHO\n");
    expect(await readFile(path.join(r.out, "bin/SCRIPT"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(await mode(path.join(r.out, "bin/SCRIPT"))).toBe("755");
    expect(await readFile(path.join(r.out, "bin/INFO"), "utf8")).toBe("info\n");
  });

  it("--chmod symbolic on files and directories; a bad spec is an error at the line", async () => {
    const r = await build("chmod", ["FROM busybox:latest", "COPY --chmod=u+x,g-w,o= f.txt /f.txt", "COPY --chmod=a+X dir /dir"].join("\n"), {
      "f.txt": "f",
      "dir/a": "a",
    });
    expect(r.code).toBe(0);
    expect(await mode(path.join(r.out, "f.txt"))).toBe("740");
    expect(await mode(path.join(r.out, "dir/a"))).toBe("644");
    const bad = await build("chmod-bad", ["FROM busybox:latest", "COPY --chmod=u+q f.txt /"].join("\n"), { "f.txt": "f" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Dockerfile:2: invalid chmod parameter: 'u\+q'\. it should be octal string/);
  });

  it("--exclude leaves matching paths out (relative to the source, dockerignore syntax: * stays in one level), with wildcards too", async () => {
    const r = await build(
      "exclude",
      ["FROM busybox:latest", "COPY --exclude=*.md --exclude=build app /app", "COPY --exclude=*.txt hom* /home-files/", "COPY --exclude=**/*.md app /app2"].join("\n"),
      { "app/main.c": "c", "app/README.md": "r", "app/sub/notes.md": "n", "app/sub/x.c": "x", "app/build/out.o": "o", "home.c": "h", "home.txt": "t" },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect((await listTree(path.join(r.out, "app"))).join(",")).toBe("main.c,sub,sub/notes.md,sub/x.c");
    expect((await listTree(path.join(r.out, "app2"))).join(",")).toBe("build,build/out.o,main.c,sub,sub/x.c");
    expect((await listTree(path.join(r.out, "home-files"))).join(",")).toBe("home.c");
  });

  it("--parents keeps source paths; /./ marks where the kept part starts; --link gives the same files", async () => {
    const r = await build(
      "parents",
      ["FROM busybox:latest", "COPY --parents a/b/f.txt c/*.txt /keep/", "COPY --parents a/./b/f.txt /pivot/", "COPY --link a/b/f.txt /linked.txt"].join("\n"),
      { "a/b/f.txt": "F", "c/one.txt": "1", "c/two.txt": "2" },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(await listTree(path.join(r.out, "keep"))).toEqual(["a", "a/b", "a/b/f.txt", "c", "c/one.txt", "c/two.txt"]);
    expect(await listTree(path.join(r.out, "pivot"))).toEqual(["b", "b/f.txt"]);
    expect(await readFile(path.join(r.out, "linked.txt"), "utf8")).toBe("F");
  });

  it("ADD URL: name from the URL, mode 0600, Last-Modified as mtime, --checksum verified, redirects followed", async () => {
    const r = await build(
      "url",
      [
        "FROM busybox:latest",
        `ADD --checksum=${payloadSum} ${base}/files/tool.sh /opt/`,
        `ADD --chmod=755 ${base}/redirect /usr/local/bin/tool`,
      ].join("\n"),
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const f = path.join(r.out, "opt/tool.sh");
    expect(await readFile(f, "utf8")).toBe(payload);
    expect(await mode(f)).toBe("600");
    expect((await stat(f)).mtime.toISOString()).toBe(lastModified.toISOString());
    expect(await mode(path.join(r.out, "usr/local/bin/tool"))).toBe("755");
  });

  it("ADD URL: a checksum mismatch and a 404 are clear errors at the line", async () => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const r = await build("url-bad", ["FROM busybox:latest", `ADD --checksum=${wrong} ${base}/files/tool.sh /t`].join("\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2: ADD http:.*checksum mismatch: expected sha256:0+, got sha256:[0-9a-f]{64}/);
    const nf = await build("url-404", ["FROM busybox:latest", `ADD ${base}/missing /t`].join("\n"));
    expect(nf.code).toBe(1);
    expect(nf.stderr).toMatch(/Dockerfile:2: ADD http:.*404/);
    const copyUrl = await build("copy-url", ["FROM busybox:latest", `COPY ${base}/files/tool.sh /t`].join("\n"));
    expect(copyUrl.code).toBe(1);
    expect(copyUrl.stderr).toMatch(/COPY does not accept URLs/);
    expect(existsSync(path.join(copyUrl.out, "t"))).toBe(false);
  });
});
