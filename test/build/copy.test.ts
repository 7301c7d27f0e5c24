// COPY/ADD as docker does them, and the two escapes that must never work:
// a context symlink pointing out of the context, and an image symlink
// pointing a destination out of the rootfs.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";

describe("COPY and ADD", () => {
  const ws = useWorkspace({ busybox: true, name: "copy" });

  /** Builds `dockerfile` over a context made of `files`; returns the rootfs dir or the CLI result on failure. */
  async function buildLocal(name: string, dockerfile: string, files: Record<string, string> = {}, prepare?: (ctx: string) => Promise<void>) {
    const ctx = await writeContext(path.join(ws.work, name, "ctx"), { Dockerfile: dockerfile, ...files });
    const out = path.join(ws.work, name, "rootfs");
    await prepare?.(ctx);
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ctx]);
    return { ...r, out };
  }

  it("file to dir/, file to a new name, wildcards into a directory, a directory's contents", async () => {
    const r = await buildLocal(
      "semantics",
      [
        "FROM busybox:latest",
        "COPY a.txt /into/",
        "COPY a.txt /renamed.txt",
        "COPY *.md /docs/",
        "COPY tree /tree",
        "WORKDIR /w",
        "COPY a.txt rel/",
      ].join("\n"),
      { "a.txt": "A", "x.md": "X", "y.md": "Y", "tree/sub/deep.txt": "D", "tree/top.txt": "T" },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "into/a.txt"), "utf8")).toBe("A");
    expect(await readFile(path.join(r.out, "renamed.txt"), "utf8")).toBe("A");
    expect(await readFile(path.join(r.out, "docs/x.md"), "utf8")).toBe("X");
    expect(await readFile(path.join(r.out, "docs/y.md"), "utf8")).toBe("Y");
    expect(await readFile(path.join(r.out, "tree/sub/deep.txt"), "utf8")).toBe("D");
    expect(existsSync(path.join(r.out, "tree/tree"))).toBe(false);
    expect(await readFile(path.join(r.out, "w/rel/a.txt"), "utf8")).toBe("A");
  });

  it("several sources need a directory destination", async () => {
    const r = await buildLocal("multi", "FROM busybox:latest\nCOPY a b /dest\n", { a: "1", b: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2: when using COPY with more than one source file, the destination must be a directory and end with a \//);
  });

  it("ADD unpacks a local tar.gz and copies a plain file as it is", async () => {
    const r = await buildLocal("add", "FROM busybox:latest\nADD bundle.tar.gz /opt/\nADD plain.txt /opt/\n", { "plain.txt": "P" }, async (ctx) => {
      await mkdir(path.join(ctx, "src/pkg"), { recursive: true });
      await writeFile(path.join(ctx, "src/pkg/lib.txt"), "L");
      execFileSync("tar", ["-czf", path.join(ctx, "bundle.tar.gz"), "-C", path.join(ctx, "src"), "pkg"]);
    });
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "opt/pkg/lib.txt"), "utf8")).toBe("L");
    expect(await readFile(path.join(r.out, "opt/plain.txt"), "utf8")).toBe("P");
    expect(existsSync(path.join(r.out, "opt/bundle.tar.gz"))).toBe(false);
  });

  it(".dockerignore: an ignored directory is absent unless a ! exception keeps something in it (then with its own mode)", async () => {
    const r = await buildLocal(
      "ignored-dirs",
      "FROM busybox:latest\nCOPY . /app/\n",
      { ".dockerignore": "*.log\nsecret/\nlogs\n!keep.log\n!logs/keep.log\n", "secret/key": "K", "logs/a.log": "A", "logs/keep.log": "L", "keep.log": "R", "src/a.js": "J" },
      async (ctx) => {
        await mkdir(path.join(ctx, "empty"));
        await chmod(path.join(ctx, "logs"), 0o750);
      },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // BuildKit sends an excluded directory only as the parent of an included path.
    expect(existsSync(path.join(r.out, "app/secret"))).toBe(false);
    expect(await readFile(path.join(r.out, "app/logs/keep.log"), "utf8")).toBe("L");
    expect(existsSync(path.join(r.out, "app/logs/a.log"))).toBe(false);
    expect((await lstat(path.join(r.out, "app/logs"))).mode & 0o7777).toBe(0o750);
    expect(await readFile(path.join(r.out, "app/keep.log"), "utf8")).toBe("R");
    expect((await lstat(path.join(r.out, "app/empty"))).isDirectory()).toBe(true);
  });

  it("a context symlink never reads outside the context", async () => {
    const r = await buildLocal("ctx-escape", "FROM busybox:latest\nCOPY escape/passwd /stolen\n", {}, async (ctx) => {
      await symlink("/etc", path.join(ctx, "escape"));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2: "escape\/passwd" not found in the build context/);
  });

  it("a context symlink copied inside a directory stays a symlink", async () => {
    const r = await buildLocal("ctx-link", "FROM busybox:latest\nCOPY dir /dir\n", { "dir/f": "F" }, async (ctx) => {
      await symlink("/etc/shadow", path.join(ctx, "dir/link"));
    });
    expect(r.code).toBe(0);
    expect((await lstat(path.join(r.out, "dir/link"))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(r.out, "dir/link"))).toBe("/etc/shadow");
  });

  it("an image symlink cannot send a COPY to the host", async () => {
    const victim = path.join(ws.work, "host-victim");
    await mkdir(victim);
    const r = await buildLocal(
      "img-escape",
      `FROM busybox:latest\nRUN ln -s /../../../../../../..${victim} /target && ln -s ../../../../../../..${victim} /rel\nCOPY f /target/\nCOPY f /rel/\n`,
      { f: "payload" },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(victim, "f"))).toBe(false);
    // Both links resolve inside the rootfs, as they would in a chroot.
    expect(await readFile(path.join(r.out, victim, "f"), "utf8")).toBe("payload");
  });
});
