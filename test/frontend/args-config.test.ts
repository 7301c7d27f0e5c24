// ENV/LABEL/ARG with several pairs, build args and predefined ARGs, and the
// config and inputs of a build, as BuildKit's dockerfile2llb gives them.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";
import { buildIn, ociConfig } from "./helpers.js";

describe("ENV, LABEL and ARG with several pairs", () => {
  const ws = useWorkspace({ busybox: true, name: "args" });
  const build = (name: string, df: string, extra: string[] = []) => buildIn(ws.root, ws.work, name, df, {}, extra);

  it("ENV expands every pair with the environment from before the instruction; LABEL likewise", async () => {
    const df = [
      "FROM busybox:latest",
      "ENV abc=hello",
      "ENV abc=bye def=$abc",
      "ENV ghi=$def",
      "LABEL abc=one xyz=$abc",
      "RUN echo \"$abc $def $ghi\" > /env",
    ].join("\n");
    const r = await build("env-pairs", df);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(r.out, "env"), "utf8")).toBe("bye hello hello\n");
    const cfg = await ociConfig(r.oci);
    expect(cfg.config.Env).toEqual(expect.arrayContaining(["abc=bye", "def=hello", "ghi=hello"]));
    expect(cfg.config.Labels).toEqual({ abc: "one", xyz: "bye" });
  });

  it("ARG pairs see the ones before them and ENV; a global ARG is out of scope until redeclared", async () => {
    const df = [
      "ARG GLOBAL=g",
      "FROM busybox:latest",
      "ENV E=e",
      "ARG A=1 B=${A}2 C=$E-$GLOBAL",
      "RUN echo \"$A $B $C\" > /args",
    ].join("\n");
    const r = await build("arg-pairs", df);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(r.out, "args"), "utf8")).toBe("1 12 e-\n");
  });

  it("a --build-arg replaces an ARG default without expanding it", async () => {
    const df = ["FROM busybox:latest", "ARG FOO", 'ARG BAR=${FOO:?"foo missing"}', "RUN echo \"$BAR\" > /bar"].join("\n");
    const r = await build("arg-override", df, ["--build-arg", "BAR=123"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(r.out, "bar"), "utf8")).toBe("123\n");
    const unset = await build("arg-default-error", df);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toMatch(/Dockerfile:3: .*foo missing/);
  });

  it("TARGETSTAGE is the stage being built (\"default\" for an unnamed last stage), once declared", async () => {
    const df = [
      "FROM busybox:latest AS base",
      "RUN echo \"[$TARGETSTAGE]\" > /first",
      "ARG TARGETSTAGE",
      "RUN echo \"[$TARGETSTAGE]\" > /second",
      "FROM base AS foo",
      "FROM base",
    ].join("\n");
    const named = await build("targetstage-foo", df, ["--target", "foo"]);
    expect(named.code, named.stderr).toBe(0);
    expect(await readFile(path.join(named.out, "first"), "utf8")).toBe("[]\n");
    expect(await readFile(path.join(named.out, "second"), "utf8")).toBe("[foo]\n");
    const dflt = await build("targetstage-default", df);
    expect(dflt.code, dflt.stderr).toBe(0);
    expect(await readFile(path.join(dflt.out, "second"), "utf8")).toBe("[default]\n");
  });

  it("FROM scratch images get WorkingDir / and the default PATH", async () => {
    const r = await build("scratch-config", "FROM scratch\nENV foo=bar\n");
    expect(r.code, r.stderr).toBe(0);
    const cfg = await ociConfig(r.oci);
    expect(cfg.config.WorkingDir).toBe("/");
    expect(cfg.config.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "foo=bar"]);
  });

  it("ARG SOURCE_DATE_EPOCH=<default> before FROM is honoured; a value that is not a timestamp is refused at its line", async () => {
    const ok = await build("sde-default", "ARG SOURCE_DATE_EPOCH=100\nFROM busybox:latest\nRUN echo x > /x\n");
    expect(ok.code, ok.stderr).toBe(0);
    expect((await ociConfig(ok.oci)).created).toBe("1970-01-01T00:01:40.000Z");
    const bad = await build("sde-invalid", "ARG SOURCE_DATE_EPOCH=not-a-timestamp\nFROM scratch\nENV a=b\n");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Dockerfile:1: invalid SOURCE_DATE_EPOCH: not-a-timestamp/);
    expect(bad.stderr).not.toMatch(/internal/);
  });
});

describe("finding the build's inputs", () => {
  const ws = useWorkspace({ busybox: true, name: "inputs" });

  it("a context with only a lowercase `dockerfile` is built from it", async () => {
    const ctx = await writeContext(path.join(ws.work, "lower"), { dockerfile: "FROM busybox:latest\nRUN echo lower > /which\n" });
    const out = path.join(ws.work, "lower-out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(out, "which"), "utf8")).toBe("lower\n");
    // Dockerfile wins when both exist.
    await writeFile(path.join(ctx, "Dockerfile"), "FROM busybox:latest\nRUN echo upper > /which\n");
    const both = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}-2`, ctx]);
    expect(both.code, both.stderr).toBe(0);
    expect(await readFile(path.join(`${out}-2`, "which"), "utf8")).toBe("upper\n");
  });

  it("a .dockerignore line of only `!` is an error naming the file and line", async () => {
    const ctx = await writeContext(path.join(ws.work, "bang"), { Dockerfile: "FROM scratch\nCOPY . .\n", ".dockerignore": "# keep\n*.tmp\n!\n" });
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ctx]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${path.join(ctx, ".dockerignore")}:3: illegal exclusion pattern: "!"`);
  });
});
