// examples/small-static and examples/cross-build build as their comments say.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/build/build.js";
import { buildPlatforms } from "../../src/build/build-platforms.js";
import { Store } from "../../src/store/store.js";
import { kiln, REPO } from "../helpers/kiln.js";
import { AMD64, ARM64, busyboxTarballs, requireArm64Emulation } from "./prerequisites.js";

describe("examples", () => {
  let root: string;
  let work: string;
  let store: Store;
  let bb: Awaited<ReturnType<typeof busyboxTarballs>>;
  beforeAll(async () => {
    await requireArm64Emulation();
    bb = await busyboxTarballs();
    root = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    work = await mkdtemp(path.join(tmpdir(), "kiln-ex-"));
    for (const [plat, file] of [["linux/amd64", bb.amd64], ["linux/arm64", bb.arm64]] as const) {
      const r = await kiln(["--root", root, "import", "--platform", plat, file, "busybox:latest"]);
      if (r.code !== 0) throw new Error(`import ${plat}: ${r.stderr}`);
    }
    store = await Store.open(root);
  });
  afterAll(async () => {
    for (const d of [root, work, bb?.dir]) if (d) await rm(d, { recursive: true, force: true });
  });

  it("small-static: a scratch image of one static binary and its script; the unused stage never runs", async () => {
    const out = path.join(work, "small");
    const r = await build({ store, contextDir: path.join(REPO, "examples/small-static"), tags: ["small:1"], outputs: [{ kind: "local", dest: out }] });
    expect(r.stages).toEqual([0, 2]);
    expect(r.manifest).toBeDefined();
    expect((await readdir(out)).sort()).toEqual(["bin", "etc"]);
    expect((await readdir(path.join(out, "bin"))).sort()).toEqual(["busybox", "hello"]);
    const said = execFileSync(path.join(out, "bin/busybox"), ["sh", path.join(out, "bin/hello")]).toString();
    expect(said).toBe("hello from a x86_64 scratch image\n");
  });

  it("cross-build: the build stage runs natively for each target; one folder per platform for type=local", async () => {
    const out = path.join(work, "cross");
    const r = await buildPlatforms({ store, contextDir: path.join(REPO, "examples/cross-build"), platforms: [AMD64, ARM64], tags: ["cross:1"], outputs: [{ kind: "local", dest: out }] });
    expect(r.index).toBeDefined();
    expect((await readdir(out)).sort()).toEqual(["linux_amd64", "linux_arm64"]);
    expect(await readFile(path.join(out, "linux_arm64/usr/local/bin/app"), "utf8")).toContain("built on linux/amd64 for linux/arm64");
    expect(await readFile(path.join(out, "linux_amd64/usr/local/bin/app"), "utf8")).toContain("built on linux/amd64 for linux/amd64");
    expect(execFileSync("file", ["-b", path.join(out, "linux_arm64/bin/busybox")]).toString()).toMatch(/aarch64/);
  });
});
