// COPY/ADD give the filesystem BuildKit gives (its frontend/dockerfile
// copy tests): owners and modes of the directories a copy creates, owners
// kept from another stage, hard links, sockets, symlinked sources,
// wildcards (empty, `**`, --parents pivots after them), the multi-source
// rule, and ADD's archive rules (--chown, --unpack).
import { execFileSync } from "node:child_process";
import { link, lstat, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";

describe("COPY/ADD fidelity", () => {
  const ws = useWorkspace({ busybox: true, name: "copy-fidelity" });
  /** Builds ctx (already prepared) into a local rootfs. */
  const buildCtx = async (name: string, ctx: string) => {
    const out = path.join(ws.work, name, "out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ctx]);
    return { ...r, out };
  };
  const owner = async (p: string) => {
    const st = await lstat(p);
    return `${st.uid}:${st.gid}`;
  };
  const perm = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8);

  it("created parents take --chown and --chmod; COPY --from keeps the stage's owners; hard links, sockets and symlinked sources as BuildKit", async () => {
    const ctx = await writeContext(path.join(ws.work, "meta", "ctx"), {
      Dockerfile: [
        "FROM busybox:latest AS src",
        "RUN mkdir /d && touch /d/f /o && chown 7:8 /o /d/f && chown 9:10 /d",
        "FROM busybox:latest",
        "COPY --chown=1000:1000 f /opt/app/bin/x",
        "COPY --chmod=750 f /p/q/f",
        "COPY --from=src /o /o",
        "COPY --from=src /d /d",
        "COPY --from=src --chown=3:4 /o /chowned",
        "COPY links /links/",
        "COPY sock /sock",
        "COPY link linkdir/file /sym/",
      ].join("\n"),
      f: "f\n",
      "links/a": "same inode\n",
      target: "target contents\n",
      "realdir/file": "through a linked dir\n",
    });
    await link(path.join(ctx, "links/a"), path.join(ctx, "links/b"));
    await symlink("target", path.join(ctx, "link"));
    await symlink("realdir", path.join(ctx, "linkdir"));
    execFileSync("python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path.join(ctx, "sock")]);
    const r = await buildCtx("meta", ctx);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const o = r.out;
    for (const d of ["opt", "opt/app", "opt/app/bin"]) expect(await owner(path.join(o, d)), d).toBe("1000:1000");
    expect(await owner(path.join(o, "opt/app/bin/x"))).toBe("1000:1000");
    expect(await perm(path.join(o, "p"))).toBe("750");
    expect(await perm(path.join(o, "p/q"))).toBe("750");
    expect(await owner(path.join(o, "o"))).toBe("7:8");
    expect(await owner(path.join(o, "d"))).toBe("0:0"); // the destination a directory copy makes is root's
    expect(await owner(path.join(o, "d/f"))).toBe("7:8");
    expect(await owner(path.join(o, "chowned"))).toBe("3:4");
    expect((await stat(path.join(o, "links/a"))).ino).toBe((await stat(path.join(o, "links/b"))).ino);
    const sock = await lstat(path.join(o, "sock"));
    expect(sock.isFile()).toBe(true);
    expect(sock.size).toBe(0);
    // A symlink named as a source is copied as what it points to, under its own name.
    expect((await lstat(path.join(o, "sym/link"))).isFile()).toBe(true);
    expect(await readFile(path.join(o, "sym/link"), "utf8")).toBe("target contents\n");
    expect(await readFile(path.join(o, "sym/file"), "utf8")).toBe("through a linked dir\n");
  });

  it("wildcards: no match is no error, ** matches any depth, a --parents pivot works after a wildcard, one wildcard source needs no dir/ destination", async () => {
    const ctx = await writeContext(path.join(ws.work, "wild", "ctx"), {
      Dockerfile: [
        "FROM busybox:latest",
        "COPY f nomatch* /w/",
        "COPY nomatch* /empty/",
        "COPY --parents nomatch*/x /pempty/",
        "COPY --parents deep/**/leaf.txt /pp/",
        "COPY --parents de*/./a/**/leaf.txt /pv/",
        "COPY dir* /merged",
      ].join("\n"),
      f: "f\n",
      "deep/a/b/leaf.txt": "ab\n",
      "deep/a/other.txt": "no\n",
      "deep/c/leaf.txt": "c\n",
      "dir1/one": "1\n",
      "dir2/two": "2\n",
    });
    const r = await buildCtx("wild", ctx);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const o = r.out;
    expect(await readFile(path.join(o, "w/f"), "utf8")).toBe("f\n");
    // Nothing matched: no destination is made (BuildKit's copy op returns first; measured, differential case noop-steps).
    await expect(stat(path.join(o, "empty"))).rejects.toThrow(/ENOENT/);
    // With --parents it is made (BuildKit's testCopyParentsMissingDirectory).
    expect((await stat(path.join(o, "pempty"))).isDirectory()).toBe(true);
    expect(await readFile(path.join(o, "pp/deep/a/b/leaf.txt"), "utf8")).toBe("ab\n");
    expect(await readFile(path.join(o, "pp/deep/c/leaf.txt"), "utf8")).toBe("c\n");
    await expect(stat(path.join(o, "pp/deep/a/other.txt"))).rejects.toThrow();
    expect(await readFile(path.join(o, "pv/a/b/leaf.txt"), "utf8")).toBe("ab\n");
    expect(await readFile(path.join(o, "merged/one"), "utf8")).toBe("1\n");
    expect(await readFile(path.join(o, "merged/two"), "utf8")).toBe("2\n");
    // Two source arguments still need a directory destination.
    const two = await writeContext(path.join(ws.work, "two", "ctx"), { Dockerfile: "FROM busybox:latest\nCOPY f g /x\n", f: "", g: "" });
    const bad = await buildCtx("two", two);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Dockerfile:2: when using COPY with more than one source file, the destination must be a directory/);
  });

  it("ADD: --chown applies to an unpacked archive, --unpack=false copies it as a file, several archives unpack into one destination", async () => {
    const ctx = await writeContext(path.join(ws.work, "add", "ctx"), {
      Dockerfile: ["FROM busybox:latest", "ADD --chown=100:200 t.tar /out/", "ADD --unpack=false t.tar /raw/", "ADD *.tar /all"].join("\n"),
    });
    const src = path.join(ws.work, "add", "src");
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, "foo"), "content0");
    await writeFile(path.join(src, "bar"), "content1");
    execFileSync("tar", ["-C", src, "--owner=5", "--group=6", "-cf", path.join(ctx, "t.tar"), "foo"]);
    execFileSync("tar", ["-C", src, "-cf", path.join(ctx, "u.tar"), "bar"]);
    const r = await buildCtx("add", ctx);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const o = r.out;
    expect(await owner(path.join(o, "out/foo"))).toBe("100:200");
    expect(await owner(path.join(o, "out"))).toBe("100:200");
    expect(await readFile(path.join(o, "raw/t.tar"))).toEqual(await readFile(path.join(ctx, "t.tar")));
    expect(await readFile(path.join(o, "all/foo"), "utf8")).toBe("content0");
    expect(await readFile(path.join(o, "all/bar"), "utf8")).toBe("content1");
    expect(await owner(path.join(o, "all/foo"))).toBe("5:6"); // without --chown an archive keeps its owners
  });
});
