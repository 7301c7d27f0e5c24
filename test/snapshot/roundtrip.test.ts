// Round trip on real files as root: build a tree with every kind of entry a
// layer can hold, write it as a layer tar, extract it, and compare every
// piece of metadata. Also checks that GNU tar (a reader we did not write)
// accepts the tar, and that gzip/zstd layers are sniffed and decoded.
import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, chown, link, mkdir, rm, symlink, utimes, writeFile, lutimes, lchown } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLayerTar } from "../../src/snapshot/diff.js";
import { decompressedStream, extractLayer } from "../../src/snapshot/extract.js";
import { layerTarDigest } from "../../src/snapshot/digest-stream.js";
import { sh, tmp, treeMeta, xattrsOf } from "./fs-helpers.js";

// A v2 file capability with cap_setuid (bit 7) so the value holds a 0x80
// byte: a UTF-8 round trip of PAX values would corrupt it.
const CAP = "0x0100000280000000000000000000000000000000";
const T = 1_600_000_000;

let base: string;
let src: string;

async function buildTree(root: string): Promise<void> {
  await mkdir(path.join(root, "etc"));
  await writeFile(path.join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  await mkdir(path.join(root, "bin"));
  await writeFile(path.join(root, "bin/su"), Buffer.alloc(5000, 7));
  await chmod(path.join(root, "bin/su"), 0o4755);
  await writeFile(path.join(root, "bin/sg"), "g");
  await chmod(path.join(root, "bin/sg"), 0o2711);
  await writeFile(path.join(root, "bin/ping"), "ping");
  await chmod(path.join(root, "bin/ping"), 0o755);
  sh("setfattr", ["-n", "security.capability", "-v", CAP, path.join(root, "bin/ping")]);
  sh("setfattr", ["-n", "user.note", "-v", "hello=world", path.join(root, "etc/passwd")]);
  await mkdir(path.join(root, "home/user"), { recursive: true });
  await writeFile(path.join(root, "home/user/a"), "owned by 1000");
  await chown(path.join(root, "home/user/a"), 1000, 1000);
  await chown(path.join(root, "home/user"), 1000, 1000);
  await link(path.join(root, "home/user/a"), path.join(root, "home/user/hard"));
  await link(path.join(root, "etc/passwd"), path.join(root, "bin/passwd-link"));
  await mkdir(path.join(root, "usr/lib"), { recursive: true });
  await symlink("usr/lib", path.join(root, "lib"));
  await symlink("/etc/passwd", path.join(root, "abs-link"));
  await lchown(path.join(root, "abs-link"), 1000, 1000);
  await mkdir(path.join(root, "run"));
  sh("mknod", ["-m", "0640", path.join(root, "run/fifo"), "p"]);
  await mkdir(path.join(root, "dev"));
  sh("mknod", ["-m", "0666", path.join(root, "dev/null2"), "c", "1", "3"]);
  sh("mknod", ["-m", "0660", path.join(root, "dev/loop9"), "b", "7", "9"]);
  await mkdir(path.join(root, "tmp"));
  await chmod(path.join(root, "tmp"), 0o1777);
  const long = path.join(root, "deep", "d".repeat(90), "e".repeat(90));
  await mkdir(long, { recursive: true });
  await writeFile(path.join(long, "f".repeat(120)), "long");
  await writeFile(path.join(root, "usr/lib/ünïcode-名前"), "utf8");
  await writeFile(path.join(root, "usr/lib/big"), Buffer.alloc(3 * 1024 * 1024 + 17, 1));
  // Fixed times everywhere, children before parents.
  const all = execFileSync("find", [root, "-depth", "-mindepth", "1"], { encoding: "utf8" }).trim().split("\n");
  for (const p of all) await lutimes(p, T, T);
  await utimes(root, T, T);
}

beforeAll(async () => {
  base = tmp("roundtrip");
  src = path.join(base, "src");
  await mkdir(src);
  await buildTree(src);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("layer tar round trip", () => {
  it("keeps modes, owners, times, links, devices, fifos and xattrs", async () => {
    const tarPath = path.join(base, "layer.tar");
    await writeLayerTar(src, createWriteStream(tarPath));
    const dst = path.join(base, "dst");
    await mkdir(dst);
    await extractLayer(createReadStream(tarPath), dst);
    const a = treeMeta(src);
    const b = treeMeta(dst);
    expect(b).toEqual(a);
    expect(b["bin/su"]!.mode).toBe("4755");
    expect(b["bin/sg"]!.mode).toBe("2711");
    expect(b["tmp"]!.mode).toBe("1777");
    expect(b["home/user/hard"]!.inodeGroup).toBe("home/user/a");
    expect(b["home/user/a"]!.uid).toBe(1000);
    expect(b["abs-link"]!.uid).toBe(1000);
    expect(b["dev/null2"]!.type).toBe("char");
    expect(b["run/fifo"]!.type).toBe("fifo");
    expect(xattrsOf(path.join(dst, "bin/ping"))["security.capability"]).toBe(CAP);
  });

  it("writes entries GNU tar reads, sorted, relative, dirs with a trailing slash", async () => {
    const tarPath = path.join(base, "layer2.tar");
    await writeLayerTar(src, createWriteStream(tarPath));
    const names = sh("tar", ["-tf", tarPath]).trim().split("\n");
    expect(names).toContain("etc/");
    expect(names).toContain("etc/passwd");
    expect(names.some((n) => n.startsWith("/") || n.startsWith("./"))).toBe(false);
    const sorted = [...names].sort((x, y) => Buffer.compare(Buffer.from(x.replace(/\/$/, "")), Buffer.from(y.replace(/\/$/, ""))));
    expect(names).toEqual(sorted);
    const verbose = sh("tar", ["--xattrs", "--xattrs-include=*", "-tvvf", tarPath]);
    // The first path in tar order carries the content; the later one links to it.
    expect(verbose).toMatch(/^h.* etc\/passwd link to bin\/passwd-link$/m);
    expect(verbose).toMatch(/x: 20 security.capability/);
  });

  it("is deterministic and clamps mtimes to SOURCE_DATE_EPOCH", async () => {
    const one = await layerTarDigest(src);
    const two = await layerTarDigest(src);
    expect(two).toEqual(one);
    const clamped = await layerTarDigest(src, { sourceDateEpoch: 1_000 });
    expect(clamped.diffId).not.toBe(one.diffId);
    const tarPath = path.join(base, "clamped.tar");
    await writeLayerTar(src, createWriteStream(tarPath), { sourceDateEpoch: 1_000 });
    const dst = path.join(base, "clamped");
    await mkdir(dst);
    await extractLayer(createReadStream(tarPath), dst);
    expect(Object.values(treeMeta(dst)).every((m) => m.mtime === 1_000)).toBe(true);
    // A later epoch leaves older times alone.
    expect((await layerTarDigest(src, { sourceDateEpoch: T + 10 })).diffId).toBe(one.diffId);
  });

  it("honours exclude for a path and its subtree", async () => {
    const tarPath = path.join(base, "excl.tar");
    await writeLayerTar(src, createWriteStream(tarPath), { exclude: (p) => p === "usr" || p === "etc/passwd" });
    const names = sh("tar", ["-tf", tarPath]);
    expect(names).not.toMatch(/^usr/m);
    expect(names).not.toMatch(/^etc\/passwd$/m);
    expect(names).toMatch(/^etc\/$/m);
  });

  it("sniffs gzip and zstd compressed layers", async () => {
    const tarPath = path.join(base, "layer3.tar");
    await writeLayerTar(src, createWriteStream(tarPath));
    execFileSync("sh", ["-c", `gzip -c ${tarPath} > ${tarPath}.gz && zstd -q -c ${tarPath} > ${tarPath}.zst`]);
    for (const ext of [".gz", ".zst", ""]) {
      const dst = path.join(base, `dec${ext || ".plain"}`);
      await mkdir(dst);
      await extractLayer(await decompressedStream(createReadStream(tarPath + ext)), dst);
      expect(treeMeta(dst)).toEqual(treeMeta(src));
    }
  });

  it("refuses a non-empty destination", async () => {
    await expect(extractLayer(createReadStream(path.join(base, "layer.tar")), src)).rejects.toMatchObject({ code: "EXTRACT_DEST_NOT_EMPTY" });
  });
});
