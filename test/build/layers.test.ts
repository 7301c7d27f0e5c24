// The foundation's end-to-end check: a Dockerfile on a busybox base that
// adds, deletes, replaces, links and chowns files is built into the store;
// umoci (not our code) unpacks it and the tree is exactly as expected; runc
// runs the unpacked image as its USER in its WORKDIR.
import { execFileSync, spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { treeLines } from "../helpers/tree.js";
import { validateOci, haveSchemas } from "../helpers/oci-schema.js";
import { useWorkspace } from "../helpers/workspace.js";

const CONTEXT = path.join(REPO, "testdata/layers");

describe("kiln build: layers as umoci and runc see them", () => {
  const ws = useWorkspace({ busybox: true, name: "layers" });
  let base: Map<string, string>;
  let built: Map<string, string>;
  let bundle: string;
  let progress: string;

  beforeAll(async () => {
    const b = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "layers:1", CONTEXT]);
    expect(b.stderr).toMatch(/naming to docker.io\/library\/layers:1/);
    expect(b.code).toBe(0);
    progress = b.stderr;
    const unpack = (ref: string, dir: string) =>
      execFileSync("umoci", ["unpack", "--image", `${ws.root}:${ref}`, dir], { stdio: "pipe" });
    unpack("docker.io/library/busybox:latest", path.join(ws.work, "base"));
    bundle = path.join(ws.work, "bundle");
    unpack("docker.io/library/layers:1", bundle);
    base = await treeLines(path.join(ws.work, "base/rootfs"));
    built = await treeLines(path.join(bundle, "rootfs"));
  });

  it("unpacks to exactly the base tree plus the Dockerfile's changes", () => {
    const expected = new Map(base);
    // RUN rm /bin/vi; rm -rf /home && mkdir -p /home/new (an opaque replacement)
    expected.delete("bin/vi");
    for (const k of [...expected.keys()]) if (k.startsWith("home/")) expected.delete(k);
    expected.set("home", "0755 0:0 dir");
    expected.set("home/new", "0755 0:0 dir");
    expected.set("home/new/file", `0644 0:0 file ${sha("fresh\n")}`);
    // COPY files/ /data/ (contents, not the directory; *.log ignored)
    expected.set("data", "0755 0:0 dir");
    expected.set("data/config.txt", `0644 0:0 file ${sha("key=value\n")}`);
    expected.set("data/run.sh", `0755 0:0 file ${sha("#!/bin/sh\necho run\n")}`);
    expected.set("data/sub", "0755 0:0 dir");
    expected.set("data/sub/nested.txt", `0644 1000:50 file ${sha("nested\n")}`);
    // COPY --chown=app:staff --chmod=640
    expected.set("data/owned.txt", `0640 1000:50 file ${sha("key=value\n")}`);
    // links and setuid
    expected.set("data/a", `0644 0:0 file ${sha("linked\n")}`);
    expected.set("data/hard", `0644 0:0 file ${sha("linked\n")} hardlink=data/a`);
    expected.set("data/abs-link", "0:0 symlink -> /data/a");
    expected.set("data/rel-link", "0:0 symlink -> ../data/a");
    expected.set("usr/bin/suid-tool", `4755 0:0 file ${sha("tool\n")}`);
    // WORKDIR /srv/app, created by root before USER app
    expected.set("srv", "0755 0:0 dir");
    expected.set("srv/app", "0755 0:0 dir");
    // Directories whose content changed keep their mode/owner; times are not compared.
    expect(Object.fromEntries(built)).toEqual(Object.fromEntries(expected));
  });

  it("--progress plain says where each step's time went and what writing the layers cost", () => {
    // One phases line per executed layer step, right before its DONE: the
    // overlay mount, the step's own work, the commit's walk, tar + digest, snapshot.
    const runLine = progress.split("\n").findIndex((l) => /^#\d+ \[\d+\/\d+\] RUN rm \/bin\/vi/.test(l));
    expect(runLine).toBeGreaterThan(-1);
    const id = /^#(\d+)/.exec(progress.split("\n")[runLine]!)![1];
    const phases = progress.split("\n").find((l) => l.startsWith(`#${id} phases: `));
    expect(phases).toMatch(/^#\d+ phases: mount \d+\.\d\ds, run \d+\.\d\ds, unmount \d+\.\d\ds, diff walk \d+\.\d\ds, tar\+digest \d+\.\d\ds, snapshot \d+\.\d\ds$/);
    expect(progress).toMatch(new RegExp(`#${id} phases: .*\n#${id} DONE `));
    // The image's layers are written once, after the steps, and timed as well.
    expect(progress).toMatch(/^exporting layers: .*tar\+\w+\+write \d+\.\d\ds/m);
  });

  it("the unpacked image runs under runc as its USER, in its WORKDIR, with its CMD", async () => {
    const configPath = path.join(bundle, "config.json");
    const spec = JSON.parse(await readFile(configPath, "utf8"));
    spec.process.terminal = false;
    await writeFile(configPath, JSON.stringify(spec));
    const r = spawnSync("runc", ["run", "--bundle", bundle, `kiln-test-${process.pid}`], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("user=1000:1000 dir=/srv/app\nlinked\n");
    expect(r.status).toBe(0);
  });

  it("the store's JSON validates against the OCI schemas", async (ctx) => {
    if (!haveSchemas) {
      console.warn("../shared/conformance is absent: OCI schema checks skipped");
      ctx.skip();
    }
    const index = JSON.parse(await readFile(path.join(ws.root, "index.json"), "utf8"));
    expect(validateOci("index", index)).toEqual([]);
    const desc = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.["org.opencontainers.image.ref.name"] === "docker.io/library/layers:1");
    const blob = (d: string) => readFile(path.join(ws.root, "blobs/sha256", d.slice(7)), "utf8").then(JSON.parse);
    const manifest = await blob(desc.digest);
    expect(validateOci("manifest", manifest)).toEqual([]);
    const config = await blob(manifest.config.digest);
    expect(validateOci("config", config)).toEqual([]);
    // history: one entry per instruction, metadata steps marked empty_layer
    // COPY, COPY, RUN, RUN, WORKDIR (creates /srv/app), USER, CMD
    const own = config.history.slice(-7);
    expect(own.map((h: { empty_layer?: boolean }) => h.empty_layer === true)).toEqual([false, false, false, false, false, true, true]);
    expect(manifest.layers.length).toBe(config.rootfs.diff_ids.length);
    expect(config.config.User).toBe("app");
    expect(config.config.WorkingDir).toBe("/srv/app");
  });
});

function sha(s: string): string {
  return execFileSync("sha256sum", { input: s }).toString().slice(0, 16);
}
