// The image commands and build flags as a user reaches them through `kiln`
// (main.ts dispatch): needs the CLI wiring of issue 8 (HANDLERS, usage, and
// --progress rawjson / --iidfile / --metadata-file / the layer report in
// buildCommand). The live display is checked for real: the compiled CLI runs
// under `script`, which gives it a pseudo-terminal, so --progress auto picks tty.
import { execFileSync } from "node:child_process";
import { readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const DOCKERFILE = "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null\nRUN rm /big\nRUN echo one; sleep 0.3; echo two\n";

describe("kiln CLI wiring for issue 8", () => {
  const ws = useWorkspace({ busybox: true, name: "wiring", context: { Dockerfile: DOCKERFILE } });

  it("every image command is dispatched and has --help with examples", async () => {
    for (const cmd of ["images", "inspect", "history", "tag", "rmi", "image", "du", "save", "load"]) {
      const h = await kiln(["--root", ws.root, cmd, "--help"]);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout, cmd).toMatch(new RegExp(`^Usage: kiln ${cmd}`));
    }
    expect((await kiln(["--root", ws.root, "images", "--help"])).stdout).toMatch(/Examples:/);
    expect((await kiln(["--root", ws.root, "tag", "busybox", "bb:1"])).code).toBe(0);
    expect((await kiln(["--root", ws.root, "images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout).toBe("bb:1\nbusybox:latest\n");
    expect((await kiln(["--root", ws.root, "inspect", "--format", "{{index .RepoTags 0}}", "bb:1"])).stdout).toMatch(/^(bb:1|busybox:latest)\n$/);
    expect((await kiln(["--root", ws.root, "rmi", "bb:1"])).stdout).toBe("Untagged: bb:1\n");
    expect((await kiln(["--root", ws.root, "history", "-q", "busybox"])).code).toBe(0);
    expect((await kiln(["--root", ws.root, "du"])).stdout).toMatch(/^TYPE/);
    expect((await kiln(["--root", ws.root, "image", "prune", "-f"])).stdout).toMatch(/Total reclaimed space/);
    const tar = path.join(ws.work, "bb.tar");
    expect((await kiln(["--root", ws.root, "save", "-o", tar, "busybox"])).code).toBe(0);
    expect((await kiln(["--root", ws.root, "load", "-i", tar])).stdout).toBe("Loaded image: busybox:latest\n");
  });

  it("build --progress rawjson writes one JSON event per line; --iidfile and --metadata-file", async () => {
    const iid = path.join(ws.work, "iid");
    const meta = path.join(ws.work, "meta.json");
    const r = await kiln(["--root", ws.root, "build", "--progress", "rawjson", "--iidfile", iid, "--metadata-file", meta, "-t", "w:1", ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stderr
      .split("\n")
      .filter(Boolean)
      // Every line is JSON: no summary or "naming to" text among the events.
      .map((l) => JSON.parse(l) as { kind: string; id?: number; data?: string; name?: string });
    expect(events.filter((e) => e.kind === "step-start").map((e) => e.name)).toEqual([
      "[1/4] FROM busybox",
      "[2/4] RUN dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null",
      "[3/4] RUN rm /big",
      "[4/4] RUN echo one; sleep 0.3; echo two",
    ]);
    expect(events.filter((e) => e.kind === "step-log").map((e) => e.data).join("")).toBe("one\ntwo\n");
    expect(events.filter((e) => e.kind === "step-done")).toHaveLength(4);
    const digest = await readFile(iid, "utf8");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const m = JSON.parse(await readFile(meta, "utf8")) as Record<string, unknown>;
    // As docker: the image ID (config digest) in --iidfile, the manifest digest in the metadata.
    expect(m["containerimage.config.digest"]).toBe(digest);
    expect(m["containerimage.digest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m["containerimage.digest"]).not.toBe(digest);
    expect(m["containerimage.descriptor"]).toMatchObject({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: m["containerimage.digest"] });
    expect(m["image.name"]).toBe("docker.io/library/w:1");
  });

  it("a build that ran steps ends with the layer report", async () => {
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--no-cache", "-t", "w:1", ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^image: 4 layers, [\d.]+MB, [\d.]+MB wasted \(overwritten or deleted by later layers\)$/m);
    expect(r.stderr).toMatch(/^hint: [\d.]+MB wasted: layer 2 \(RUN dd if=\/dev\/zero of=\/big bs=1024 cou…\) adds \/big that layer 3 \(RUN rm \/big\) deletes or overwrites/m);
  });

  it("plain output of a cached rebuild is stable for CI logs", async () => {
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "w:1", ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    const golden = r.stderr.replace(/sha256:[0-9a-f]{64}/g, "sha256:…").replace(/\d+\.\d+(MB|kB)/g, "N$1");
    expect(golden).toBe(
      [
        "#1 [1/4] FROM busybox",
        "#1 DONE 0.0s",
        "#2 [2/4] RUN dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null",
        "#2 CACHED",
        "#3 [3/4] RUN rm /big",
        "#3 CACHED",
        "#4 [4/4] RUN echo one; sleep 0.3; echo two",
        "#4 CACHED",
        "0 steps run, 3 cached",
        "writing image sha256:…",
        "naming to docker.io/library/w:1",
        "",
      ].join("\n"),
    );
  });

  it("--progress auto draws the live display on a pseudo-terminal", async () => {
    // Compile the CLI as it ships (bin/kiln.js runs dist/) into a scratch dir.
    const dist = path.join(ws.work, "dist");
    execFileSync("npx", ["tsc", "-p", REPO, "--outDir", dist], { stdio: "pipe" });
    await symlink(path.join(REPO, "node_modules"), path.join(ws.work, "node_modules"));
    await writeFile(path.join(ws.work, "kiln.mjs"), `import { main } from "./dist/cli/main.js";\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    const cmd = `stty cols 100; node ${path.join(ws.work, "kiln.mjs")} --root ${ws.root} build --no-cache -t w:2 ${ws.ctx}`;
    const out = execFileSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: { ...process.env, PATH: process.env.PATH } });
    expect(out).toContain("\x1b[J"); // redrawn in place
    expect(out).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] #4 \[4\/4\] RUN echo one; sleep 0\.3; echo two +\d\.\ds/);
    expect(out).toMatch(/> one/); // the running step's output, while it runs
    expect(out).toMatch(/✔ #4 \[4\/4\] RUN echo one; sleep 0\.3; echo two \d\.\ds/);
    expect(out).toMatch(/\(4\/4\) FINISHED/);
    expect(out).toMatch(/hint: .*wasted: layer 2/);
  });
});
