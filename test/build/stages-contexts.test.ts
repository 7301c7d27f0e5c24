// Stages and named contexts as BuildKit resolves them: ONBUILD triggers keep
// their heredocs and may read the child's stages, --build-context NAME
// replaces a stage called NAME, docker-image://scratch is scratch, and a
// stage used before it is defined is BuildKit's error at the right line.
// Also the error texts BuildKit's integration tests check (with kiln's hint).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";

describe("stages and contexts", () => {
  const ws = useWorkspace({ busybox: true, name: "stages" });
  let n = 0;
  /** Builds `dockerfile` in a fresh context; the local output is returned as `out`. */
  const build = async (dockerfile: string, ...extra: string[]) => {
    const ctx = await writeContext(path.join(ws.work, `c${++n}`), { Dockerfile: dockerfile });
    const out = path.join(ws.work, `out${n}`);
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ...extra, ctx]);
    return { ...r, out, ctx };
  };
  const read = (out: string, f: string) => readFile(path.join(out, f), "utf8");

  it("an ONBUILD RUN heredoc runs whole in the child image", async () => {
    const base = await build("FROM busybox:latest\nONBUILD RUN <<EOF\necho hello >> /dest\necho world >> /dest\nEOF\n", "-t", "onbuild-heredoc:1");
    expect(base.code, base.stderr).toBe(0);
    const r = await build("FROM onbuild-heredoc:1\n");
    expect(r.code, r.stderr).toBe(0);
    expect(await read(r.out, "dest")).toBe("hello\nworld\n");
  });

  it("an ONBUILD COPY --from=STAGE reads the stage of the Dockerfile that inherits it", async () => {
    const df = [
      "FROM busybox:latest AS src",
      "RUN mkdir /in && echo -n 12 > /in/file",
      "FROM busybox:latest AS base",
      "ONBUILD COPY --from=src /in/file /out/foo",
      "FROM base AS mid",
      "RUN cp /out/foo /out/bar",
      "FROM scratch",
      "COPY --from=mid /out/bar /",
    ].join("\n");
    const r = await build(df);
    expect(r.stderr).not.toMatch(/internal|TypeError/);
    expect(r.code, r.stderr).toBe(0);
    expect(await read(r.out, "bar")).toBe("12");
  });

  it("--build-context NAME=docker-image://… replaces the stage NAME (its instructions do not run)", async () => {
    const marked = await build("FROM busybox:latest\nRUN echo marked > /marker\n", "-t", "marked:1");
    expect(marked.code, marked.stderr).toBe(0);
    const df = ["FROM busybox:latest AS base", "RUN echo stage > /out", "FROM base", "RUN cat /marker > /seen && [ ! -f /out ]"].join("\n");
    const r = await build(df, "--build-context", "base=docker-image://marked:1");
    expect(r.code, r.stderr).toBe(0);
    expect(await read(r.out, "seen")).toBe("marked\n");
  });

  it("--build-context NAME=DIR replaces the stage NAME for COPY --from", async () => {
    const dir = await writeContext(path.join(ws.work, "basedir"), { out: "from the dir\n", out2: "ignored\n", ".dockerignore": "out2\n" });
    const r = await build(["FROM busybox:latest AS base", "RUN false", "FROM scratch", "COPY --from=base /o* /"].join("\n"), "--build-context", `base=${dir}`);
    expect(r.code, r.stderr).toBe(0);
    expect(await read(r.out, "out")).toBe("from the dir\n");
    await expect(read(r.out, "out2")).rejects.toThrow(/ENOENT/);
  });

  it("--build-context busybox=docker-image://scratch makes FROM busybox the empty image", async () => {
    const r = await build("FROM busybox AS build\nCOPY <<EOF /out\nhello\nEOF\n", "--build-context", "busybox=docker-image://scratch");
    expect(r.code, r.stderr).toBe(0);
    expect(await read(r.out, "out")).toBe("hello\n");
    await expect(read(r.out, "bin/busybox")).rejects.toThrow(/ENOENT/);
  });

  it("COPY --from a stage defined later is BuildKit's error at the COPY line", async () => {
    const r = await build(["FROM busybox:latest AS target", "COPY --from=build /d2 /out", "FROM busybox:latest AS build", "RUN touch /d2", "FROM target"].join("\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2: cannot copy from stage "build", it needs to be defined before current stage "target"/);
  });

  it("COPY --from an image that is not there names the COPY line, not the stage's FROM", async () => {
    const r = await build("FROM scratch\nENV foo=bar\nCOPY --from=no-such-image foo bar\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:3: base image "no-such-image" is not in the local store/);
  });
});

describe("error texts BuildKit's tests check", () => {
  const ws = useWorkspace({ busybox: true, name: "bkerr" });
  const fail = async (dockerfile: string, ...extra: string[]) => {
    await writeFile(path.join(ws.ctx, "Dockerfile"), dockerfile);
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ...extra, ws.ctx]);
    expect(r.code).toBe(1);
    return r.stderr;
  };

  it("--chmod out of range or not octal", async () => {
    for (const [mode, add] of [["10000", "COPY"], ["64a", "ADD"]] as const) {
      const err = await fail(`FROM busybox:latest\nRUN true\n${add} --chmod=${mode} Dockerfile /x\n`);
      expect(err).toContain(`Dockerfile:3: invalid chmod parameter: '${mode}'. it should be octal string and between 0 and 07777`);
    }
  });

  it("no stages, a mistyped target with a suggestion, a missing required secret", async () => {
    expect(await fail("ARG foo=bar")).toMatch(/Dockerfile:1: dockerfile contains no stages to build/);
    expect(await fail("FROM scratch AS build\nCOPY Dockerfile /out\nFROM scratch\n", "--target", "bulid")).toContain('target stage "bulid" could not be found (did you mean build?)');
    expect(await fail("FROM busybox:latest\nRUN --mount=type=secret,id=mysecret,required=true true\n")).toMatch(/Dockerfile:2: secret mysecret: not found/);
  });

  it("an instruction continued over two lines shows both, numbered", async () => {
    const err = await fail("from scratch\nrun wh\\\nat\nenv bar=baz\n");
    expect(err).toMatch(/Dockerfile:2: /);
    expect(err).toContain(" line 2   | run wh\\\n line 3   | at\n");
    // A missing shell is not the runtime's fault.
    expect(err).toMatch(/\/bin\/sh does not exist in the image/);
  });
});
