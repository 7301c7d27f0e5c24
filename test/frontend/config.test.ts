// HEALTHCHECK, ONBUILD and MAINTAINER into the image config as docker
// writes them. The end-to-end cases need the three handlers wired into
// applyInstruction (and ONBUILD triggers run after FROM).
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseGoDuration } from "../../src/steps/healthcheck.js";
import { onbuildTriggers } from "../../src/steps/onbuild.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { buildIn, ociConfig } from "./helpers.js";

describe("Go durations", () => {
  it("parse to nanoseconds as time.ParseDuration does", () => {
    expect(parseGoDuration("30s")).toBe(30e9);
    expect(parseGoDuration("1m30s")).toBe(90e9);
    expect(parseGoDuration("1.5h")).toBe(5400e9);
    expect(parseGoDuration("250ms")).toBe(250e6);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("10")).toBeUndefined();
    expect(parseGoDuration("s")).toBeUndefined();
    expect(parseGoDuration("1x")).toBeUndefined();
  });
});

describe("onbuildTriggers", () => {
  const from = { file: "Dockerfile", line: 3, text: "FROM parent" };
  it("parses each stored trigger into an instruction located at the FROM line", () => {
    const t = onbuildTriggers({ OnBuild: ["RUN echo hi", "ENV A=1 B=2", "COPY a /b"] }, from);
    expect(t.map((i) => i.kind)).toEqual(["run", "env", "copy"]);
    expect(t.every((i) => i.location.line === 3)).toBe(true);
  });
  it("rejects triggers that are not allowed, naming the FROM line", () => {
    expect(() => onbuildTriggers({ OnBuild: ["FROM x"] }, from)).toThrow(/ONBUILD FROM trigger is not allowed/);
    // The parser's suggestion is the error's hint (shown after the message), kept through the wrapping.
    let err: unknown;
    try { onbuildTriggers({ OnBuild: ["RUNN x"] }, from); } catch (e) { err = e; }
    expect(err).toMatchObject({ message: expect.stringMatching(/trigger "RUNN x" is invalid/), hint: expect.stringMatching(/did you mean RUN\?/) });
    expect((err as { format(): string }).format()).toMatch(/^Dockerfile:3: .*invalid.*did you mean RUN/);
  });
  it("no triggers, no instructions", () => {
    expect(onbuildTriggers(undefined, from)).toEqual([]);
    expect(onbuildTriggers({ OnBuild: null }, from)).toEqual([]);
  });
});

describe("HEALTHCHECK, ONBUILD, MAINTAINER (needs the applyInstruction wiring)", () => {
  const ws = useWorkspace({ busybox: true, name: "config" });

  it("HEALTHCHECK with every option; shell and exec forms; NONE", async () => {
    const a = await buildIn(ws.root, ws.work, "hc", [
      "FROM busybox:latest",
      "HEALTHCHECK --interval=1m30s --timeout=3s --start-period=10s --start-interval=500ms --retries=4 CMD wget -q -O- http://localhost/ || exit 1",
    ].join("\n"));
    expect(a.stderr).not.toMatch(/error/i);
    expect((await ociConfig(a.oci)).config.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"],
      Interval: 90e9,
      Timeout: 3e9,
      StartPeriod: 10e9,
      StartInterval: 500e6,
      Retries: 4,
    });
    const b = await buildIn(ws.root, ws.work, "hc2", ["FROM busybox:latest", 'HEALTHCHECK CMD ["/bin/true"]', "HEALTHCHECK NONE"].join("\n"));
    expect((await ociConfig(b.oci)).config.Healthcheck).toEqual({ Test: ["NONE"] });
    const c = await buildIn(ws.root, ws.work, "hc3", ["FROM busybox:latest", 'HEALTHCHECK --interval=5s CMD ["/bin/true", "x"]'].join("\n"));
    expect((await ociConfig(c.oci)).config.Healthcheck).toEqual({ Test: ["CMD", "/bin/true", "x"], Interval: 5e9 });
  });

  it("every RUN, COPY and WORKDIR (but WORKDIR /) is a layer, an empty tar when it changed nothing (as BuildKit commits them)", async () => {
    const r = await buildIn(ws.root, ws.work, "noop-layers", ["FROM busybox:latest", "WORKDIR /etc", "WORKDIR /", "COPY nothing-matches-* /opt/", "WORKDIR /srv/new"].join("\n"));
    expect(r.stderr).not.toMatch(/error/i);
    const cfg = await ociConfig(r.oci);
    expect(cfg.history.slice(-4).map((h: { created_by: string; empty_layer?: boolean }) => [h.created_by.replace(/ # buildkit$/, ""), h.empty_layer === true])).toEqual([
      ["WORKDIR /etc", false],
      ["WORKDIR /", true],
      ["COPY nothing-matches-* /opt/", false],
      ["WORKDIR /srv/new", false],
    ]);
    const index = JSON.parse(await readFile(path.join(r.oci, "index.json"), "utf8"));
    const manifest = JSON.parse(await readFile(path.join(r.oci, "blobs", ...index.manifests[0].digest.split(":")), "utf8"));
    expect(manifest.layers).toHaveLength(cfg.rootfs.diff_ids.length);
    expect(cfg.rootfs.diff_ids).toHaveLength(cfg.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length);
    // The /etc and the COPY layers hold nothing: an empty tar (two zero blocks), as BuildKit's.
    const emptyTar = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
    expect(cfg.rootfs.diff_ids.slice(-3)).toEqual([emptyTar, emptyTar, expect.not.stringMatching(emptyTar)]);
    expect((await stat(path.join(r.out, "srv/new"))).isDirectory()).toBe(true);
  });

  it("MAINTAINER sets the image author", async () => {
    const r = await buildIn(ws.root, ws.work, "maint", ["FROM busybox:latest", "MAINTAINER Jane Doe <jane@example.com>"].join("\n"));
    expect(r.stderr).not.toMatch(/error/i);
    const cfg = await ociConfig(r.oci);
    expect(cfg.author).toBe("Jane Doe <jane@example.com>");
    expect(cfg.history.at(-1)).toMatchObject({ created_by: "MAINTAINER Jane Doe <jane@example.com>", empty_layer: true });
  });

  it("ONBUILD is stored; a child build runs the triggers after FROM and does not inherit them", async () => {
    const parent = await buildIn(ws.root, ws.work, "parent", [
      "FROM busybox:latest",
      "ONBUILD COPY marker.txt /from-trigger.txt",
      "ONBUILD RUN echo ran > /trigger-ran",
    ].join("\n"), {}, ["-t", "parent:1"]);
    expect(parent.stderr).not.toMatch(/error/i);
    const parentCfg = await ociConfig(parent.oci);
    expect(parentCfg.config.OnBuild).toEqual(["COPY marker.txt /from-trigger.txt", "RUN echo ran > /trigger-ran"]);
    // Config only, as BuildKit's frontend: no history entry (the base's one entry is all there is).
    expect(parentCfg.history.map((h: { created_by?: string }) => h.created_by ?? "").filter((c: string) => /ONBUILD/.test(c))).toEqual([]);
    const child = await buildIn(ws.root, ws.work, "child", ["FROM parent:1", "RUN cat /trigger-ran > /seen"].join("\n"), { "marker.txt": "M" });
    expect(child.stderr).not.toMatch(/error/i);
    expect(await readFile(path.join(child.out, "from-trigger.txt"), "utf8")).toBe("M");
    expect(await readFile(path.join(child.out, "seen"), "utf8")).toBe("ran\n");
    expect((await ociConfig(child.oci)).config.OnBuild ?? null).toBeNull();
    // A failing trigger is reported at the FROM line that brought it in.
    const broken = await buildIn(ws.root, ws.work, "child2", ["FROM parent:1"].join("\n"));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/Dockerfile:1/);
    expect(broken.stderr).toMatch(/marker\.txt/);
    void kiln;
  });
});
