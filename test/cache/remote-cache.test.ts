// The cache travels: exported to a directory or a real registry, imported
// into an empty store, it answers every step (same digest), and with
// mounts=true the RUN --mount=type=cache contents come along too. Also: a
// build pushes with --push, and FROM a registry image pulls it.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

// Two runners share a base image: both stores import the identical busybox.
const SAME_BASE = { sourceDateEpoch: "0" };

const DOCKERFILE = `FROM busybox:latest
COPY app.txt /app.txt
RUN --mount=type=cache,id=downloads,target=/cache sh -c 'test -f /cache/fetched || echo fetched-once > /cache/fetched; cp /cache/fetched /from-cache'
RUN cat /app.txt /from-cache > /both
`;

describe("remote build cache", () => {
  let ctx: string;
  let work: string;
  let registry: RegistryServer;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "kiln-rcache-"));
    ctx = path.join(work, "ctx");
    await import("node:fs/promises").then((fs) => fs.mkdir(ctx));
    await writeFile(path.join(ctx, "Dockerfile"), DOCKERFILE);
    await writeFile(path.join(ctx, "app.txt"), "app\n");
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const build = async (root: string, ...extra: string[]) => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", "-t", "cached:1", ...extra, ctx]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    return { ...r, digest: /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr)![1], counts: /(\d+) steps run, (\d+) cached/.exec(r.stderr)!.slice(1).map(Number) };
  };

  it("type=local round trip: an empty store gets every step from the cache, and the cache mount's contents", async () => {
    const a = await storeWithBusybox(SAME_BASE);
    const dir = path.join(work, "cache-dir");
    const first = await build(a, "--cache-to", `type=local,dest=${dir},mode=max,mounts=true`);
    expect(first.stderr).toMatch(/exported cache to .*: 3 records, 1 cache mounts/);
    // What we wrote is an OCI layout other tools read.
    const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8"));
    expect(JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${dir}:cache`], { encoding: "utf8" })).artifactType).toBe("application/vnd.kiln.cache.v1");
    expect(index.manifests).toHaveLength(1);

    const b = await storeWithBusybox(SAME_BASE);
    const second = await build(b, "--cache-from", `type=local,src=${dir}`);
    expect(second.stderr).toMatch(/imported cache from .*: 3 new records, 3 layers, 1 cache mounts/);
    expect(second.counts).toEqual([0, 3]);
    expect(second.digest).toBe(first.digest);
    // The cache mount came along: a new step that reads it sees what the first store fetched.
    const mounts = path.join(b, "cache", "mounts");
    const [id] = await readdir(mounts);
    expect(await readFile(path.join(mounts, id!, "fetched"), "utf8")).toBe("fetched-once\n");
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  });

  it("type=registry round trip through a real registry on 127.0.0.1", async () => {
    const a = await storeWithBusybox(SAME_BASE);
    const ref = `${registry.host}/team/app-cache:main`;
    const first = await build(a, "--cache-to", `type=registry,ref=${ref},mode=max`);
    expect(first.stderr).toMatch(/exported cache to .*app-cache:main: 3 records/);
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(raw.artifactType).toBe("application/vnd.kiln.cache.v1");

    const b = await storeWithBusybox(SAME_BASE);
    const second = await build(b, "--cache-from", `type=registry,ref=${ref}`);
    expect(second.counts).toEqual([0, 3]);
    expect(second.digest).toBe(first.digest);
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  });

  it("--push puts the image in the registry, and FROM a registry image pulls it into an empty store", async () => {
    const a = await storeWithBusybox(SAME_BASE);
    const ref = `${registry.host}/team/app:1`;
    const pushed = await kiln(["--root", a, "build", "--progress", "plain", "--push", "-t", ref, ctx]);
    expect(pushed.code).toBe(0);
    const digest = /pushed .*@(sha256:[0-9a-f]{64})/.exec(pushed.stderr)![1];
    const remote = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(remote.Digest).toBe(digest);

    const empty = await mkdtemp(path.join(tmpdir(), "kiln-empty-"));
    const child = path.join(work, "child");
    await import("node:fs/promises").then((fs) => fs.mkdir(child));
    await writeFile(path.join(child, "Dockerfile"), `FROM ${ref}\nRUN cat /both > /again\n`);
    const r = await kiln(["--root", empty, "build", "--progress", "plain", "--output", `type=local,dest=${path.join(work, "child-rootfs")}`, child]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(work, "child-rootfs", "again"), "utf8")).toBe("app\nfetched-once\n");
    await rm(a, { recursive: true, force: true });
    await rm(empty, { recursive: true, force: true });
  });
});
