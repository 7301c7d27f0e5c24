// An interrupted build leaves the store consistent: Ctrl-C stops the running
// step and discards it; after kill -9 the next kiln command sweeps what the
// dead process left (mounts, half-made snapshots, temp files).
import { spawn } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const BIN = path.join(REPO, "bin/kiln.js");

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(dir));
}

function startBuild(root: string, ctxDir: string) {
  const child = spawn("node", [BIN, "--root", root, "build", "--progress", "plain", "-t", "slow:1", ctxDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const running = new Promise<void>((resolve) => {
    child.stderr.on("data", () => {
      // the RUN output line, not the step title: the step is mounted and running
      if (/#\d+ [\d.]+ started-sleeping/.test(stderr)) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code, sig) => resolve(code ?? (sig ? -1 : null))));
  return { child, running, exited, stderr: () => stderr };
}

const SLOW_DOCKERFILE = "FROM busybox:latest\nRUN echo data > /kept\nRUN echo started-sleeping && sleep 2 && echo never > /never\n";

describe("interrupted builds", () => {
  const ws = useWorkspace({ busybox: true, name: "slow", context: { Dockerfile: SLOW_DOCKERFILE } });

  it("Ctrl-C stops the step, unmounts, commits nothing and exits 130", async () => {
    const before = await readFile(path.join(ws.root, "index.json"), "utf8");
    const b = startBuild(ws.root, ws.ctx);
    await b.running;
    b.child.kill("SIGINT");
    expect(await b.exited).toBe(130);
    // Since 9388acd every command names the signal that stopped it (130 SIGINT, 143 SIGTERM).
    expect(b.stderr()).toMatch(/^error: interrupted by SIGINT$/m);
    expect(await readFile(path.join(ws.root, "index.json"), "utf8")).toBe(before);
    expect(await mountsUnder(ws.root)).toEqual([]);
    expect((await readdir(path.join(ws.root, "snapshots"))).filter((n) => n.startsWith(".new-"))).toEqual([]);
    expect((await readdir(path.join(ws.root, "tmp"))).filter((n) => n !== "empty-lower")).toEqual([]);
  });

  it("after kill -9 the next kiln command sweeps the dead build's mounts and files", async () => {
    const b = startBuild(ws.root, ws.ctx);
    await b.running;
    b.child.kill("SIGKILL");
    await b.exited;
    expect((await mountsUnder(path.join(ws.root, "tmp"))).length).toBeGreaterThan(0);
    const r = await kiln(["--root", ws.root, "images"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/slow/);
    expect(await mountsUnder(path.join(ws.root, "tmp"))).toEqual([]);
    expect((await readdir(path.join(ws.root, "snapshots"))).filter((n) => n.startsWith(".new-"))).toEqual([]);
    expect((await readdir(path.join(ws.root, "tmp"))).filter((n) => n !== "empty-lower")).toEqual([]);
    // The store still builds.
    await new Promise((r) => setTimeout(r, 2500)); // let the orphaned container's sleep end
    const again = await kiln(["--root", ws.root, "build", "-t", "slow:1", ws.ctx]);
    expect(again.code).toBe(0);
  });
});
