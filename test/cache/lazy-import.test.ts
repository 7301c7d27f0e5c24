// --cache-from is lazy: importing a cache reads its manifest and records,
// and a layer blob comes over only when a step hits on it. A build whose
// first step changed downloads no layer at all; a build that hits gets
// exactly the layers of its hits; a cache that goes away mid-build turns
// hits into misses, not into a failed build. Against a real registry (with
// a counting proxy in front) and a local cache directory.
import { readFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startFaultProxy, type FaultProxy } from "../registry/helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

// Two runners share a base image: both stores import the identical busybox.
const SAME_BASE = { sourceDateEpoch: "0" };

// Random bytes: every layer is different, a few MB, and incompressible.
const steps = (first: string, third: string) => `FROM busybox:latest
RUN head -c 3000000 /dev/urandom > /${first}
RUN head -c 4000000 /dev/urandom > /two
RUN head -c 2000000 /dev/urandom > /${third}
`;
const DOCKERFILES = {
  same: steps("one", "three"),
  firstChanged: steps("first", "three"),
  lastChanged: steps("one", "third"),
};

interface Layer {
  readonly digest: string;
  readonly diffId: string;
}

describe("lazy --cache-from", () => {
  // The workspace's store is the exporter's.
  const ws = useWorkspace({ busybox: true, ...SAME_BASE, name: "lazy" });
  let registry: RegistryServer;
  let proxy: FaultProxy;
  /** Digests of the blobs GET through the proxy, in order. */
  const blobGets: string[] = [];
  let localCache: string;
  /** The cache's layers, in step order. */
  let layers: Layer[];
  let exportedDigest: string;
  const stores: string[] = [];

  const context = (name: keyof typeof DOCKERFILES) => path.join(ws.work, name);
  const build = async (root: string, dockerfile: keyof typeof DOCKERFILES, ...extra: string[]) => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", "-t", "lazy:1", ...extra, context(dockerfile)]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    return { ...r, digest: /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr)![1], counts: /(\d+) steps run, (\d+) cached/.exec(r.stderr)!.slice(1).map(Number) };
  };
  const freshStore = async () => {
    const s = await storeWithBusybox(SAME_BASE);
    stores.push(s);
    return s;
  };
  const layersIn = async (root: string) => {
    const have = new Set(await readdir(path.join(root, "blobs", "sha256")));
    return layers.filter((l) => have.has(l.digest.slice("sha256:".length))).map((l) => l.digest);
  };
  const layerGets = () => blobGets.filter((d) => layers.some((l) => l.digest === d));

  beforeAll(async () => {
    for (const [name, text] of Object.entries(DOCKERFILES)) await ws.writeContext({ Dockerfile: text }, context(name as keyof typeof DOCKERFILES));
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.port);
    proxy.decide = (req) => {
      const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? "");
      if (req.method === "GET" && m) blobGets.push(m[1]!);
      return undefined;
    };
    exportedDigest = (await build(ws.root, "same", "--cache-to", `type=registry,ref=${registry.host}/team/lazy:max,mode=max`)).digest!;
    localCache = path.join(ws.work, "local-cache");
    await build(ws.root, "same", "--cache-to", `type=local,dest=${localCache},mode=max`);
    // The cache's layers in step order: the image's diffIDs after busybox's.
    const blob = async (d: string) => JSON.parse(await readFile(path.join(ws.root, "blobs", "sha256", d.slice("sha256:".length)), "utf8"));
    const image = await blob(exportedDigest);
    const diffIds: string[] = (await blob(image.config.digest)).rootfs.diff_ids.slice(1);
    const index = JSON.parse(await readFile(path.join(localCache, "index.json"), "utf8"));
    const cache = JSON.parse(await readFile(path.join(localCache, "blobs", "sha256", index.manifests[0].digest.slice("sha256:".length)), "utf8"));
    const offered = (cache.layers as { digest: string; annotations: Record<string, string> }[]).map((l) => ({ digest: l.digest, diffId: l.annotations["dev.kiln.cache.diff-id"]! }));
    layers = diffIds.map((id) => offered.find((l) => l.diffId === id)!);
    expect(layers.every(Boolean)).toBe(true);
    expect(new Set(layers.map((l) => l.digest)).size).toBe(3);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const s of stores) await rm(s, { recursive: true, force: true });
  });

  it("registry: a build whose first step changed fetches no layer, and the imported records never break a later build", async () => {
    const store = await freshStore();
    blobGets.length = 0;
    const r = await build(store, "firstChanged", "--cache-from", `type=registry,ref=${proxy.host}/team/lazy:max`);
    expect(r.stderr).toMatch(/imported cache from .*: 3 new records, 3 layers/);
    expect(r.counts).toEqual([3, 0]);
    // The records came (one blob: the cache's config), the layers did not.
    expect(blobGets).toHaveLength(1);
    expect(layerGets()).toEqual([]);
    expect(await layersIn(store)).toEqual([]);

    // The store now holds records whose layers it never fetched; a build
    // that would hit them, without --cache-from, runs its steps instead.
    blobGets.length = 0;
    const later = await build(store, "same");
    expect(later.counts).toEqual([3, 0]);
    expect(blobGets).toEqual([]);
  });

  it("registry: a build that hits every step fetches each layer once, and gives the exporter's image", async () => {
    const store = await freshStore();
    blobGets.length = 0;
    const r = await build(store, "same", "--cache-from", `type=registry,ref=${proxy.host}/team/lazy:max`);
    expect(r.counts).toEqual([0, 3]);
    expect(r.digest).toBe(exportedDigest);
    expect(layerGets().sort()).toEqual(layers.map((l) => l.digest).sort());
    expect(await layersIn(store)).toEqual(layers.map((l) => l.digest));
  });

  it("registry: a build whose last step changed fetches only the first two layers", async () => {
    const store = await freshStore();
    blobGets.length = 0;
    const r = await build(store, "lastChanged", "--cache-from", `type=registry,ref=${proxy.host}/team/lazy:max`);
    expect(r.counts).toEqual([1, 2]);
    expect(layerGets()).toEqual([layers[0]!.digest, layers[1]!.digest]);
    expect(await layersIn(store)).toEqual([layers[0]!.digest, layers[1]!.digest]);
  });

  it("type=local: only the layers of the hits are copied into the store", async () => {
    const miss = await freshStore();
    expect(await layersIn(miss)).toEqual([]);
    const before = (await readdir(path.join(miss, "blobs", "sha256"))).length;
    // Untagged, to a directory: the build itself makes no blobs, so the blobs dir shows what the import brought.
    const r = await kiln(["--root", miss, "build", "--progress", "plain", "--cache-from", `type=local,src=${localCache}`, "--output", `type=local,dest=${path.join(ws.work, "miss-rootfs")}`, context("firstChanged")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/3 steps run, 0 cached/);
    // Nothing but the cache's manifest and config (a local output makes no image blobs).
    expect((await readdir(path.join(miss, "blobs", "sha256"))).length).toBe(before + 2);
    expect(await layersIn(miss)).toEqual([]);

    const partial = await freshStore();
    const p = await build(partial, "lastChanged", "--cache-from", `type=local,src=${localCache}`);
    expect(p.counts).toEqual([1, 2]);
    expect(await layersIn(partial)).toEqual([layers[0]!.digest, layers[1]!.digest]);
  });

  it("a registry that goes away after the import: the hits become misses, with a warning, and the build succeeds", async () => {
    const doomed = await startRegistry();
    const front = await startFaultProxy(doomed.port);
    // stop() twice would wait for a second exit that never comes.
    let stopping: Promise<void> | undefined;
    try {
      await build(ws.root, "same", "--cache-to", `type=registry,ref=${doomed.host}/team/lazy:max,mode=max`);
      front.decide = (req) => {
        // The first layer request finds the registry gone (stopped for real); so does everything after it.
        if (!stopping && req.method === "GET" && layers.some((l) => req.url?.endsWith(l.digest))) stopping = doomed.stop();
        return stopping ? "drop" : undefined;
      };
      const store = await freshStore();
      const r = await build(store, "same", "--cache-from", `type=registry,ref=${front.host}/team/lazy:max`);
      expect(stopping).toBeDefined();
      expect(r.stderr).toMatch(/imported cache from .*: 3 new records, 3 layers/);
      expect(r.stderr).toMatch(/^WARNING: cache layer sha256:[0-9a-f]{64} could not be fetched from .*: the step runs instead/m);
      expect(r.counts).toEqual([3, 0]);
    } finally {
      await front.stop();
      await (stopping ?? doomed.stop());
    }
  });
});
