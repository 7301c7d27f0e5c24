// Go programs' embedded module list (go-binary.ts), read from a real binary
// built here from testdata/sbom/go-app with Debian's Go toolchain, and
// checked against `go version -m`, the go command's own reader.
import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseModinfo, readGoBuildInfo, type GoBuildInfo } from "../../../src/attest/sbom/go-binary.js";
import { scanRootfs, spdxDocument, type SbomPackage } from "../../../src/attest/sbom/index.js";

const GO_APP = path.resolve("testdata/sbom/go-app");
const UP = "../../../../../../../../../../../../../..";

let work: string;
let appBin: string;
let root: string;

/** Offline and reproducible: the dependencies come from go-app/vendor, and nothing in the caller's environment steers the build. */
function goEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: work,
    GOPATH: path.join(work, "gopath"),
    GOCACHE: path.join(work, "gocache"),
    GOFLAGS: "-mod=vendor",
    GOPROXY: "off",
    GOWORK: "off",
    GO111MODULE: "on",
    CGO_ENABLED: "0",
  };
}

function go(args: string[], cwd = work): string {
  return execFileSync("go", args, { cwd, env: goEnv(), encoding: "utf8" });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "kiln-sbom-gobuild-"));
  appBin = path.join(work, "app");
  // -buildvcs=false: the fixture sits in kiln's git checkout, whose state must not change the binary.
  go(["build", "-buildvcs=false", "-o", appBin, "."], GO_APP);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-sbom-goroot-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function install(from: string, imagePath: string, mode = 0o755): Promise<void> {
  await mkdir(path.dirname(path.join(root, imagePath)), { recursive: true });
  await copyFile(from, path.join(root, imagePath));
  await chmod(path.join(root, imagePath), mode);
}

async function installBytes(bytes: Buffer, imagePath: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, imagePath)), { recursive: true });
  await writeFile(path.join(root, imagePath), bytes, { mode: 0o755 });
}

async function buildInfoOf(file: string): Promise<GoBuildInfo | undefined> {
  const fh = await open(file, constants.O_RDONLY);
  try {
    return await readGoBuildInfo(fh, (await fh.stat()).size);
  } finally {
    await fh.close();
  }
}

interface ToolModule {
  word: "mod" | "dep";
  path: string;
  version: string;
  replace?: { path: string; version: string };
}

/** `go version -m`: "<file>: <go version>", then tab-indented lines; a replacement follows its module as "=>". */
function goVersionM(file: string): { goVersion: string; modules: ToolModule[] } {
  const out = go(["version", "-m", file]);
  const [first, ...rest] = out.split("\n");
  const modules: ToolModule[] = [];
  for (const line of rest) {
    const cols = line.replace(/^\t/, "").split("\t");
    if (cols[0] === "mod" || cols[0] === "dep") modules.push({ word: cols[0], path: cols[1]!, version: cols[2]! });
    else if (cols[0] === "=>") modules.at(-1)!.replace = { path: cols[1]!, version: cols[2]! };
  }
  return { goVersion: first!.slice(first!.lastIndexOf(" ") + 1), modules };
}

const nameAtVersion = (pkgs: SbomPackage[]): string[] => pkgs.map((p) => `${p.name}@${p.version}`).sort();
/** The Go release a binary was built with, as `go version -m` prints it, without "go": the stdlib package's version. */
const stdlibVersion = (bin: string): string => goVersionM(bin).goVersion.replace(/^go/, "");

describe("a Go binary built from testdata/sbom/go-app", () => {
  it("lists the main module without a version and the replacing module at its version; the local replacement is left out", async () => {
    await install(appBin, "/usr/local/bin/app");
    const pkgs = await scanRootfs(root);
    expect(pkgs).toEqual([
      { name: "example.com/kiln-fixture/app", version: "", type: "golang", purl: "pkg:golang/example.com/kiln-fixture/app", foundIn: "/usr/local/bin/app" },
      {
        name: "example.com/kiln-fixture/shout-fork",
        version: "v1.1.0",
        type: "golang",
        purl: "pkg:golang/example.com/kiln-fixture/shout-fork@v1.1.0",
        foundIn: "/usr/local/bin/app",
      },
      { name: "stdlib", version: stdlibVersion(appBin), type: "golang", purl: `pkg:golang/stdlib@${stdlibVersion(appBin)}`, foundIn: "/usr/local/bin/app" },
    ]);
    // SPDX: an unknown version is an absent versionInfo, not an empty one.
    const doc = spdxDocument({ name: "t", packages: pkgs, created: "2024-01-01T00:00:00Z", namespaceSeed: "t", creatorTool: "kiln-test" });
    const main = doc.packages.find((p) => p.name === "example.com/kiln-fixture/app")!;
    expect(main).not.toHaveProperty("versionInfo");
    expect(doc.packages.find((p) => p.name === "example.com/kiln-fixture/shout-fork")!.versionInfo).toBe("v1.1.0");
  });

  it("reads what `go version -m` reads: Go version, main module, every dependency and its replacement", async () => {
    const tool = goVersionM(appBin);
    const bi = (await buildInfoOf(appBin))!;
    expect(bi.goVersion).toBe(tool.goVersion);
    expect(bi.goVersion).toMatch(/^go1\.\d+/);
    const info = parseModinfo(bi.modinfo)!;
    const ours: ToolModule[] = [info.main!, ...info.deps].map((m, i) => ({
      word: i === 0 ? "mod" : "dep",
      path: m.path,
      version: m.version,
      ...(m.replace ? { replace: { path: m.replace.path, version: m.replace.version } } : {}),
    }));
    expect(ours).toEqual(tool.modules);
    // The fixture really has both kinds of replacement, or the test below proves less than it says.
    expect(tool.modules.map((m) => m.replace?.path)).toEqual([undefined, "./greet", "example.com/kiln-fixture/shout-fork"]);
  });

  it("the scan's packages are `go version -m`'s modules with replacements applied, local directories dropped, (devel) as no version", async () => {
    await install(appBin, "/app");
    const expected = goVersionM(appBin)
      .modules.map((m) => m.replace ?? m)
      .filter((m) => !m.path.startsWith("./") && !m.path.startsWith("../"))
      .map((m) => `${m.path}@${m.version === "(devel)" ? "" : m.version}`)
      .concat(`stdlib@${stdlibVersion(appBin)}`)
      .sort();
    expect(nameAtVersion(await scanRootfs(root))).toEqual(expected);
  });

  it("with its section header table gone (as sstrip leaves it), the blob is found at the start of the data segment", async () => {
    const bytes = await readFile(appBin);
    expect(bytes.readBigUInt64LE(0x28)).not.toBe(0n); // e_shoff: the table was there
    bytes.writeBigUInt64LE(0n, 0x28);
    bytes.writeUInt16LE(0, 0x3c); // e_shnum
    bytes.writeUInt16LE(0, 0x3e); // e_shstrndx
    await installBytes(bytes, "/usr/bin/sstripped");
    // Go's own reader takes the same way, so it must agree.
    expect(goVersionM(path.join(root, "usr/bin/sstripped")).modules).toEqual(goVersionM(appBin).modules);
    expect(nameAtVersion(await scanRootfs(root))).toEqual(["example.com/kiln-fixture/app@", "example.com/kiln-fixture/shout-fork@v1.1.0", `stdlib@${stdlibVersion(appBin)}`]);
  });

  it("cut in half, yields nothing and does not throw; cut anywhere, never throws", async () => {
    const bytes = await readFile(appBin);
    await installBytes(bytes.subarray(0, bytes.length >> 1), "/usr/local/bin/app");
    expect(await scanRootfs(root)).toEqual([]);
    const cut = path.join(root, "cut");
    const full = await buildInfoOf(appBin);
    for (const n of [0, 16, 52, 63, 64, 4096, bytes.length >> 3, bytes.length >> 2, (bytes.length * 3) >> 2, bytes.length - 1]) {
      await writeFile(cut, bytes.subarray(0, n));
      const bi = await buildInfoOf(cut);
      // Only the section header table's tail may be cut while the blob stays whole.
      if (bi !== undefined) expect(bi).toEqual(full);
    }
  });

  it("header fields pointing anywhere (past the file, past 2^53, at themselves) give nothing or the real info, never an exception", async () => {
    const full = await buildInfoOf(appBin);
    const bytes = await readFile(appBin);
    const shoff = Number(bytes.readBigUInt64LE(0x28));
    const shstrndx = bytes.readUInt16LE(0x3e);
    const corruptions: [string, (b: Buffer) => void][] = [
      ["e_shoff past 2^53", (b) => b.writeBigUInt64LE(2n ** 60n, 0x28)],
      ["e_shoff past the end", (b) => b.writeBigUInt64LE(BigInt(b.length + 10), 0x28)],
      ["e_shnum 0 (extended numbering) with section 0 claiming 2^62 sections", (b) => (b.writeUInt16LE(0, 0x3c), b.writeBigUInt64LE(2n ** 62n, shoff + 0x20))],
      ["e_shstrndx out of range", (b) => b.writeUInt16LE(0xfffe, 0x3e)],
      ["e_shentsize too small", (b) => b.writeUInt16LE(8, 0x3a)],
      ["name table offset past 2^53", (b) => b.writeBigUInt64LE(2n ** 63n, shoff + shstrndx * 64 + 0x18)],
      ["name table size past 2^53", (b) => b.writeBigUInt64LE(2n ** 63n, shoff + shstrndx * 64 + 0x20)],
      ["no sections, e_phoff past 2^53", (b) => (b.writeBigUInt64LE(0n, 0x28), b.writeBigUInt64LE(2n ** 60n, 0x20))],
      ["no sections, e_phnum 0xffff", (b) => (b.writeBigUInt64LE(0n, 0x28), b.writeUInt16LE(0xffff, 0x38))],
      ["ELF class 3", (b) => (b[4] = 3)],
    ];
    const file = path.join(root, "corrupt");
    for (const [what, corrupt] of corruptions) {
      const b = Buffer.from(bytes);
      corrupt(b);
      await writeFile(file, b);
      const bi = await buildInfoOf(file).catch((err: unknown) => new Error(`${what}: ${String(err)}`));
      if (bi !== undefined) expect(bi, what).toEqual(full);
    }
  });
});

describe("files that are not Go programs, or not to be read", () => {
  it("non-Go ELF programs give nothing: /bin/true (smaller than any Go program) and bash (opened, no .go.buildinfo)", async () => {
    await install("/bin/true", "/bin/true");
    await install("/usr/bin/bash", "/bin/bash");
    expect(await scanRootfs(root)).toEqual([]);
    expect(await buildInfoOf("/bin/true")).toBeUndefined();
    expect(await buildInfoOf("/usr/bin/bash")).toBeUndefined();
  });

  it("Debian's cgo-linked Go programs are read, but carry no module list (built in GOPATH mode): only their standard library is listed", async () => {
    for (const bin of ["/usr/sbin/runc", "/usr/bin/skopeo"]) {
      const bi = await buildInfoOf(bin);
      expect(bi?.goVersion).toBe(goVersionM(bin).goVersion);
      const info = parseModinfo(bi!.modinfo)!;
      expect(info.path).toMatch(/^github\.com\//);
      expect(info.main).toBeUndefined();
      expect(info.deps).toEqual([]);
    }
    await install("/usr/sbin/runc", "/usr/sbin/runc");
    expect(nameAtVersion(await scanRootfs(root))).toEqual([`stdlib@${stdlibVersion("/usr/sbin/runc")}`]);
  });

  it("a symlink to a Go binary is not followed: out of the root (absolute or climbing), or inside it (listed once, where it is)", async () => {
    await mkdir(path.join(root, "usr/local/bin"), { recursive: true });
    await symlink(appBin, path.join(root, "usr/local/bin/abs"));
    await symlink(`${UP}${appBin}`, path.join(root, "usr/local/bin/climb"));
    expect(await scanRootfs(root)).toEqual([]);
    await install(appBin, "/opt/app/server");
    await symlink("/opt/app/server", path.join(root, "usr/local/bin/server"));
    const pkgs = await scanRootfs(root);
    expect(new Set(pkgs.map((p) => p.foundIn))).toEqual(new Set(["/opt/app/server"]));
    expect(pkgs.length).toBe(3);
  });

  it("the walk does not open: a binary without an exec bit, one named as a data format, one in a data tree", async () => {
    await install(appBin, "/usr/local/bin/app", 0o644);
    await install(appBin, "/srv/app.gz");
    await install(appBin, "/usr/share/doc/app/app");
    expect(await scanRootfs(root)).toEqual([]);
    await chmod(path.join(root, "usr/local/bin/app"), 0o700); // owner-only exec counts
    expect((await scanRootfs(root)).map((p) => p.foundIn)).toEqual(["/usr/local/bin/app", "/usr/local/bin/app", "/usr/local/bin/app"]);
  });
});

describe("module info text", () => {
  const wrap = (lines: string[]): string => lines.map((l) => `${l}\n`).join("");

  it("keeps sums, takes a replacement's own sum, ignores build settings and a last line without a newline", () => {
    const text =
      wrap([
        "path\tgithub.com/acme/tool/cmd/tool",
        "mod\tgithub.com/acme/tool\tv1.4.0\th1:AAAA=",
        "dep\tgolang.org/x/sys\tv0.18.0\th1:BBBB=",
        "dep\tgithub.com/old/lib\tv1.0.0",
        "=>\tgithub.com/new/lib\tv1.2.0\th1:CCCC=",
        'build\t-ldflags="-s -w"',
        "build\tvcs.revision=0123abcd",
      ]) + "dep\tgithub.com/half/written\tv9.9.9";
    expect(parseModinfo(text)).toEqual({
      path: "github.com/acme/tool/cmd/tool",
      main: { path: "github.com/acme/tool", version: "v1.4.0", sum: "h1:AAAA=" },
      deps: [
        { path: "golang.org/x/sys", version: "v0.18.0", sum: "h1:BBBB=" },
        { path: "github.com/old/lib", version: "v1.0.0", replace: { path: "github.com/new/lib", version: "v1.2.0", sum: "h1:CCCC=" } },
      ],
    });
  });

  it("refuses text Go's parser refuses, rather than list part of it", () => {
    expect(parseModinfo(wrap(["dep\tgolang.org/x/sys"]))).toBeUndefined();
    expect(parseModinfo(wrap(["dep\ta\tv1\th1:x\textra"]))).toBeUndefined();
    expect(parseModinfo(wrap(["=>\tgithub.com/new/lib\tv1.2.0\th1:x"]))).toBeUndefined();
    expect(parseModinfo(wrap(["dep\ta\tv1", "=>\tb\tv2"]))).toBeUndefined();
  });
});
