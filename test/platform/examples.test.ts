// examples/small-static and examples/cross-build build as their comments say.
import { execFileSync } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/build/build.js";
import { Store } from "../../src/store/store.js";
import { REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { AMD64, ARM64, useArm64Busybox } from "./prerequisites.js";

describe("examples", () => {
  const ws = useWorkspace({ name: "ex" });
  useArm64Busybox({ importInto: ws });
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(ws.root);
  });

  it("small-static: a scratch image of one static binary and its script; the unused stage never runs", async () => {
    const out = path.join(ws.work, "small");
    const r = await build({ store, contextDir: path.join(REPO, "examples/small-static"), tags: ["small:1"], outputs: [{ kind: "local", dest: out }] });
    expect(r.stages).toEqual([0, 2]);
    expect(r.manifest).toBeDefined();
    expect((await readdir(out)).sort()).toEqual(["bin", "etc"]);
    expect((await readdir(path.join(out, "bin"))).sort()).toEqual(["busybox", "hello"]);
    const said = execFileSync(path.join(out, "bin/busybox"), ["sh", path.join(out, "bin/hello")]).toString();
    expect(said).toBe("hello from a x86_64 scratch image\n");
  });

  it("cross-build: the build stage runs natively for each target; one folder per platform for type=local", async () => {
    const out = path.join(ws.work, "cross");
    const r = await build({ store, contextDir: path.join(REPO, "examples/cross-build"), platforms: [AMD64, ARM64], tags: ["cross:1"], outputs: [{ kind: "local", dest: out }] });
    expect(r.index).toBeDefined();
    expect((await readdir(out)).sort()).toEqual(["linux_amd64", "linux_arm64"]);
    expect(await readFile(path.join(out, "linux_arm64/usr/local/bin/app"), "utf8")).toContain("built on linux/amd64 for linux/arm64");
    expect(await readFile(path.join(out, "linux_amd64/usr/local/bin/app"), "utf8")).toContain("built on linux/amd64 for linux/amd64");
    expect(execFileSync("file", ["-b", path.join(out, "linux_arm64/bin/busybox")]).toString()).toMatch(/aarch64/);
  });
});
