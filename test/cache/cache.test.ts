// The build cache as a user sees it: a no-op rebuild runs nothing and gives
// the same digest; only what changed reruns; every miss says why.
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";

const DOCKERFILE = `FROM busybox:latest
ARG VERSION=1.2
COPY a.txt /a.txt
COPY src/ /src/
RUN cat /src/main.c /a.txt > /combined
COPY b.txt /b.txt
RUN echo "version=$VERSION" > /version
`;

describe("build cache", () => {
  let root: string;
  let ctx: string;
  const build = async (...extra: string[]) => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", "-t", "cached:1", ...extra, ctx]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const [, executed, cached] = /(\d+) steps run, (\d+) cached/.exec(r.stderr)!;
    const digest = /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr)![1];
    const cachedSteps = [...r.stderr.matchAll(/^#(\d+) CACHED$/gm)].map((m) => Number(m[1]));
    const misses = [...r.stderr.matchAll(/^#\d+ cache miss: (.*)$/gm)].map((m) => m[1]);
    return { executed: Number(executed), cached: Number(cached), digest, cachedSteps, misses, stderr: r.stderr };
  };

  beforeAll(async () => {
    root = await storeWithBusybox();
    ctx = await mkdtemp(path.join(tmpdir(), "kiln-cache-ctx-"));
    await mkdir(path.join(ctx, "src"));
    await writeFile(path.join(ctx, "Dockerfile"), DOCKERFILE);
    await writeFile(path.join(ctx, "a.txt"), "a\n");
    await writeFile(path.join(ctx, "b.txt"), "b\n");
    await writeFile(path.join(ctx, "src/main.c"), "int main(){}\n");
    await writeFile(path.join(ctx, "src/util.c"), "void u(){}\n");
    const first = await build();
    expect(first.executed).toBe(5);
  });
  afterAll(async () => {
    await rm(ctx, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it("a no-op rebuild runs no step and gives the same digest", async () => {
    const a = await build();
    const b = await build();
    expect(b.executed).toBe(0);
    expect(b.cached).toBe(5);
    expect(b.digest).toBe(a.digest);
  });

  it("touching mtimes only is all hits", async () => {
    const before = await build();
    const later = new Date(Date.now() + 60_000);
    for (const f of ["a.txt", "b.txt", "src/main.c", "src/util.c", "src"]) await utimes(path.join(ctx, f), later, later);
    const after = await build();
    expect(after.executed).toBe(0);
    expect(after.digest).toBe(before.digest);
  });

  it("editing one file reruns exactly the steps that depend on it, and says which file", async () => {
    await writeFile(path.join(ctx, "src/main.c"), "int main(){return 1;}\n");
    const r = await build();
    // Progress numbers only filesystem steps, as BuildKit (ARG is no vertex):
    // #1 FROM, #2 COPY a.txt, #3 COPY src/, #4 RUN cat, #5 COPY b.txt, #6 RUN echo
    expect(r.cachedSteps).toEqual([2]);
    expect(r.executed).toBe(4);
    expect(r.misses[0]).toBe("COPY src/ /src/: src/main.c changed");
    expect(r.misses[1]).toBe("RUN cat /src/main.c /a.txt > /combined: an earlier step changed the filesystem");
  });

  it("a same-size, same-mtime rewrite is still seen by a new process", async () => {
    await build();
    const file = path.join(ctx, "b.txt");
    const st = await stat(file);
    await writeFile(file, "B\n"); // same size
    await utimes(file, st.atime, st.mtime); // same mtime: only ctime and content differ
    const r = await build();
    expect(r.misses[0]).toBe("COPY b.txt /b.txt: b.txt changed");
    expect(r.executed).toBe(2);
  });

  it("a changed ARG misses only the steps that use it, and says so", async () => {
    // Reproducible, so a RUN that reruns makes the same layer as before and
    // what follows it can hit; only the ARG's own effect is measured. (The
    // epoch is part of every key: the first reproducible build runs afresh.)
    await build("--reproducible");
    const r = await build("--reproducible", "--build-arg", "VERSION=1.3");
    // COPY steps do not mention VERSION; RUN sees every ARG.
    expect(r.cachedSteps, r.misses.join("\n")).toEqual([2, 3, 5]);
    expect(r.misses).toContain("RUN cat /src/main.c /a.txt > /combined: ARG VERSION changed 1.2 -> 1.3");
    expect(r.misses).toContain('RUN echo "version=$VERSION" > /version: ARG VERSION changed 1.2 -> 1.3');
  });

  it("SOURCE_DATE_EPOCH is part of the key: a reproducible build never reuses unclamped layers", async () => {
    await build();
    const r = await build("--build-arg", "SOURCE_DATE_EPOCH=86400");
    expect(r.executed).toBe(5);
    expect(r.misses[0]).toBe("COPY a.txt /a.txt: SOURCE_DATE_EPOCH changed (unset) -> 86400");
  });

  it("--no-cache runs everything; --explain-cache explains first-time misses too", async () => {
    const r = await build("--no-cache");
    expect(r.executed).toBe(5);
    expect(r.cached).toBe(0);
    const fresh = await mkdtemp(path.join(tmpdir(), "kiln-cache-ctx2-"));
    await writeFile(path.join(fresh, "Dockerfile"), "FROM busybox:latest\nRUN echo new > /new\n");
    const e = await kiln(["--root", root, "build", "--progress", "plain", "--explain-cache", fresh]);
    expect(e.stderr).toMatch(/#2 cache miss: RUN echo new > \/new: no previous build of this step/);
    await rm(fresh, { recursive: true, force: true });
  });

  it("a step that reruns but makes the same layer lets later steps hit again (unlike kaniko)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "kiln-cache-ctx3-"));
    await writeFile(path.join(dir, "Dockerfile"), "FROM busybox:latest\nARG V=1\nRUN echo fixed > /f\nCOPY c.txt /c.txt\n");
    await writeFile(path.join(dir, "c.txt"), "c\n");
    const run = (...a: string[]) => kiln(["--root", root, "build", "--progress", "plain", "--reproducible", ...a, dir]);
    expect((await run()).code).toBe(0);
    const r = await run("--build-arg", "V=2");
    // Steps as BuildKit numbers them (ARG is no vertex): #1 FROM, #2 RUN, #3 COPY.
    expect(r.stderr).toMatch(/#2 cache miss: RUN echo fixed > \/f: ARG V changed 1 -> 2/);
    expect(r.stderr).toMatch(/^#3 CACHED$/m);
    await rm(dir, { recursive: true, force: true });
  });
});
