// A fresh CI runner (empty store) rebuilding with --cache-from
// type=registry where every step hits, and pushing: the base image's
// manifest and config come over, its layers do not, nor do the hit layers
// (the push mounts them from the repositories they are in). Counted on the
// wire by a proxy in front of a real registry (Debian's docker-registry).
// What the runner's store then holds names layers it never fetched; an
// export of it fetches them and gives a complete image.
import { execFileSync } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startFaultProxy, type FaultProxy } from "../registry/helpers/fault-proxy.js";
import { danglingReferences } from "../registry/helpers/integrity.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

describe("lazy base layers on a fresh runner", () => {
  // The first runner's store: busybox imported, the base built and pushed from it.
  const ws = useWorkspace({ busybox: true, sourceDateEpoch: "0", name: "lazy-base" });
  let registry: RegistryServer;
  let proxy: FaultProxy;
  let baseBytes = 0;
  const fresh: string[] = [];

  const build = async (root: string, ctx: string, ...extra: string[]) => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", ...extra, ctx]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code, r.stderr).toBe(0);
    return { ...r, counts: /(\d+) steps run, (\d+) cached/.exec(r.stderr)!.slice(1).map(Number) };
  };
  const manifestOf = (ref: string) =>
    JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })) as {
      layers?: { digest: string; size: number }[];
      manifests?: { digest: string; platform: { architecture: string } }[];
    };

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.port);
    // The base: busybox and 6 MB that do not compress.
    const baseCtx = await ws.writeContext({ Dockerfile: "FROM busybox:latest\nRUN head -c 6000000 /dev/urandom > /payload\n" }, path.join(ws.work, "base"));
    await build(ws.root, baseCtx, "--provenance=false", "--push", "-t", `${proxy.host}/base/img:1`);
    baseBytes = manifestOf(`${registry.host}/base/img:1`).layers!.reduce((n, l) => n + l.size, 0);
    expect(baseBytes).toBeGreaterThan(6_000_000);
    // The app, built once by the first runner with its cache exported to the registry.
    await ws.writeContext({ Dockerfile: `FROM ${proxy.host}/base/img:1\nCOPY a /a\nRUN cat /a /a > /b\n`, a: "app source\n" }, path.join(ws.work, "app"));
    await build(ws.root, path.join(ws.work, "app"), "--cache-to", `type=registry,ref=${proxy.host}/cache/app:max,mode=max`, "--push", "-t", `${proxy.host}/app/web:1`);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const s of fresh) await rm(s, { recursive: true, force: true });
  });

  it("a full-hit rebuild and push moves manifests, not layers; an export then fetches what it needs", async () => {
    const root = path.join(ws.work, "runner-b");
    fresh.push(root);
    const before = proxy.bytesOut;
    const r = await build(root, path.join(ws.work, "app"), "--cache-from", `type=registry,ref=${proxy.host}/cache/app:max`, "--push", "-t", `${proxy.host}/team/web:2`);
    const downloaded = proxy.bytesOut - before;
    expect(r.counts).toEqual([0, 2]);
    expect(r.stderr).toContain(`pushed ${proxy.host}/team/web:2@`);
    // Manifests, configs and the cache's records only: well under 5% of the base.
    expect(downloaded, `${downloaded} bytes downloaded, base ${baseBytes}`).toBeLessThan(baseBytes * 0.05);
    // No layer in the runner's store: none was downloaded, none unpacked.
    const index = manifestOf(`${registry.host}/team/web:2`);
    const image = index.manifests ? manifestOf(`${registry.host}/team/web@${index.manifests.find((m) => m.platform.architecture !== "unknown")!.digest}`) : index;
    const imageLayers = image.layers!.map((l) => l.digest.slice("sha256:".length));
    // busybox, the payload, COPY, RUN.
    expect(imageLayers).toHaveLength(4);
    const held = new Set(await readdir(path.join(root, "blobs", "sha256")));
    expect(imageLayers.filter((d) => held.has(d))).toEqual([]);
    expect(await readdir(path.join(root, "snapshots"))).toEqual([]);
    // The registry holds a complete image under the new name (blobs mounted, not missing).
    expect((await danglingReferences(registry.host)).problems).toEqual([]);

    // An export from that store fetches the layers it lacks and is complete: skopeo reads every blob.
    const out = path.join(ws.work, "web.oci.tar");
    const save = await kiln(["--root", root, "save", "--format", "oci", "-o", out, `${proxy.host}/team/web:2`]);
    expect(save.code, save.stderr).toBe(0);
    execFileSync("skopeo", ["copy", `oci-archive:${out}`, `dir:${path.join(ws.work, "web.dir")}`]);
    const copied = new Set(await readdir(path.join(ws.work, "web.dir")));
    expect(imageLayers.filter((d) => !copied.has(d))).toEqual([]);
  });

  it("a step that misses after lazy hits gets its filesystem: the chain below it is fetched and unpacked", async () => {
    const root = path.join(ws.work, "runner-c");
    fresh.push(root);
    const ctx = await ws.writeContext({ Dockerfile: `FROM ${proxy.host}/base/img:1\nCOPY a /a\nRUN cat /a /a /a > /b && wc -c /payload > /size\n`, a: "app source\n" }, path.join(ws.work, "app-changed"));
    const r = await build(root, ctx, "--cache-from", `type=registry,ref=${proxy.host}/cache/app:max`, "--push", "-t", `${proxy.host}/team/web:3`);
    expect(r.counts).toEqual([1, 1]);
    // The RUN saw the base's files and the COPY's: its output is in the image.
    const out = path.join(ws.work, "web3");
    const files = await kiln(["--root", root, "build", "--cache-from", `type=registry,ref=${proxy.host}/cache/app:max`, "-o", `type=local,dest=${out}`, ctx]);
    expect(files.code, files.stderr).toBe(0);
    expect(execFileSync("cat", [path.join(out, "size"), path.join(out, "b")], { encoding: "utf8" })).toBe("6000000 /payload\napp source\napp source\napp source\n");
    expect((await danglingReferences(registry.host)).problems).toEqual([]);
  });
});
