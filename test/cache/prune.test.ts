// Pruning the cache keeps every tagged image whole, and a prune that runs
// while another kiln process builds leaves both correct.
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO, storeWithBusybox } from "../helpers/kiln.js";

/** Every blob every ref reaches is present (what skopeo/umoci would need). */
async function refsComplete(root: string): Promise<void> {
  const index = JSON.parse(await readFile(path.join(root, "index.json"), "utf8"));
  for (const m of index.manifests) {
    const ref = m.annotations["org.opencontainers.image.ref.name"];
    execFileSync("skopeo", ["inspect", `oci:${root}:${ref}`], { stdio: "pipe" });
    const dir = await mkdtemp(path.join(tmpdir(), "kiln-unpack-"));
    execFileSync("umoci", ["unpack", "--image", `${root}:${ref}`, path.join(dir, "b")], { stdio: "pipe" });
    await rm(dir, { recursive: true, force: true });
  }
}

describe("kiln cache prune", () => {
  let root: string;
  let ctx: string;
  beforeAll(async () => {
    root = await storeWithBusybox();
    ctx = await mkdtemp(path.join(tmpdir(), "kiln-prune-"));
    await writeFile(path.join(ctx, "Dockerfile"), "FROM busybox:latest\nARG N=1\nRUN echo $N > /n\nRUN echo started-sleeping && sleep 2 && echo done > /done\n");
  });
  afterAll(async () => {
    await rm(ctx, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it("prune --all empties the cache but keeps tagged images whole", async () => {
    expect((await kiln(["--root", root, "build", "-t", "keep:1", ctx])).code).toBe(0);
    expect((await kiln(["--root", root, "build", "--build-arg", "N=2", ctx])).code).toBe(0); // untagged
    const ls = await kiln(["--root", root, "cache", "ls"]);
    expect(ls.stdout.trim().split("\n").length).toBe(5); // header + 4 records
    const p = await kiln(["--root", root, "cache", "prune", "--all"]);
    expect(p.stdout).toMatch(/Removed 4 cache records, 2 snapshots/);
    expect((await kiln(["--root", root, "cache", "ls"])).stdout.trim().split("\n").length).toBe(1);
    await refsComplete(root);
    const again = await kiln(["--root", root, "build", "--progress", "plain", "-t", "keep:1", ctx]);
    expect(again.stderr).toMatch(/2 steps run, 0 cached/);
  });

  it("--keep-storage drops least recently used records first; --filter until= by age", async () => {
    expect((await kiln(["--root", root, "cache", "prune", "--filter", "until=1h"])).stdout).toMatch(/Removed 0 cache records/);
    const p = await kiln(["--root", root, "cache", "prune", "--keep-storage", "0"]);
    expect(p.stdout).toMatch(/Removed 2 cache records/);
    const bad = await kiln(["--root", root, "cache", "prune", "--keep-storage", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid size "lots"/);
  });

  it("a prune during a concurrent build keeps both correct", async () => {
    const child = spawn("node", [path.join(REPO, "bin/kiln.js"), "--root", root, "build", "--progress", "plain", "--build-arg", "N=3", "-t", "concurrent:1", ctx], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const running = new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/#\d+ [\d.]+ started-sleeping/.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await running;
    const p = await kiln(["--root", root, "cache", "prune", "--all"]);
    expect(p.code).toBe(0);
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/naming to docker.io\/library\/concurrent:1/);
    await refsComplete(root);
    // The concurrent build's own records survive the prune that ran before it finished writing them.
    const r = await kiln(["--root", root, "build", "--progress", "plain", "--build-arg", "N=3", "-t", "concurrent:1", ctx]);
    expect(r.code).toBe(0);
  });
});
