// A flaky network or registry (dropped connections, 500s, 429s, truncated
// and corrupted bodies, injected by a proxy) slows a push or pull down but
// never corrupts it: pushes complete or fail with a clear error and never
// leave a manifest whose blobs are missing; pulls never store a bad blob.
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullImage } from "../../src/registry/pull.js";
import { pushImage } from "../../src/registry/push.js";
import { Store } from "../../src/store/store.js";
import { KilnError } from "../../src/util/errors.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { type Fault, type FaultProxy, startFaultProxy } from "./helpers/fault-proxy.js";
import { danglingReferences } from "./helpers/integrity.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

const FAULTS: Fault[] = ["drop", "drop-response", "500", "429", "truncate", "corrupt"];
const FAST_RETRY = { attempts: 6, baseMs: 5, maxMs: 50 };
const env = { DOCKER_CONFIG: "/nonexistent" };

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("registry operations through a faulty network", () => {
  let reg: RegistryServer;
  let proxy: FaultProxy;
  const ws = useWorkspace({ busybox: true });

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.port);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("random faults: every push completes or fails clearly, and no manifest dangles", async () => {
    const store = await Store.open(ws.root);
    let ok = 0;
    let failed = 0;
    const messages: string[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const random = rng(seed);
      proxy.decide = () => (random() < 0.25 ? FAULTS[Math.floor(random() * FAULTS.length)] : undefined);
      const img = await makeTinyImage(store, { files: { "seed.txt": `seed ${seed}\n`, "big.bin": "x".repeat(200_000 + seed) }, label: String(seed) });
      await store.tag(`flaky:${seed}`, img.manifestDescriptor);
      // Busybox too, in PATCH chunks small enough to exercise resumption.
      const image = seed % 3 === 0 ? "busybox:latest" : `flaky:${seed}`;
      try {
        const r = await pushImage({ store, image, ref: `${proxy.host}/flaky/app${seed}:v`, env, retry: FAST_RETRY, chunkSize: 256 * 1024 });
        const want = seed % 3 === 0 ? (await store.resolveImage("busybox:latest"))!.manifestDescriptor.digest : img.manifestDescriptor.digest;
        expect(r.digest).toBe(want);
        ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(KilnError);
        expect((e as KilnError).message).toMatch(/127\.0\.0\.1|digest|registry/);
        failed++;
        messages.push((e as KilnError).format());
      }
    }
    proxy.decide = () => undefined;
    console.log(`faulty pushes: ${ok} completed, ${failed} failed cleanly; faults injected: ${proxy.injected.length}\n${messages.join("\n")}`);
    expect(proxy.injected.length).toBeGreaterThan(10);
    expect(ok).toBeGreaterThan(0);
    // Retries must never make a wrong upload (offsets come from the registry).
    expect(messages.join("\n")).not.toMatch(/DIGEST_INVALID/);
    const { checked, problems } = await danglingReferences(reg.host);
    expect(problems).toEqual([]);
    expect(checked).toBe(ok);
  });

  it("a registry that always fails: push fails with the registry's message and leaves no manifest", async () => {
    const store = await Store.open(ws.root);
    proxy.decide = (req) => (req.method === "PUT" ? "500" : undefined);
    await expect(pushImage({ store, image: "busybox:latest", ref: `${proxy.host}/broken/app:1`, env, retry: FAST_RETRY })).rejects.toThrow(/answered 500|injected 500/);
    proxy.decide = () => undefined;
    expect((await danglingReferences(reg.host)).problems).toEqual([]);
    const tags = await fetch(`http://${reg.host}/v2/broken/app/tags/list`);
    expect(tags.status).toBe(404);
  });

  it("429 with Retry-After is waited out", async () => {
    const store = await Store.open(ws.root);
    let n = 0;
    proxy.decide = (req) => (req.method === "HEAD" && n++ < 3 ? "429" : undefined);
    const r = await pushImage({ store, image: "busybox:latest", ref: `${proxy.host}/ratelimited/app:1`, env, retry: FAST_RETRY });
    proxy.decide = () => undefined;
    expect(r.digest).toMatch(/^sha256:/);
  });

  it("pulls through truncating and corrupting faults never store a bad blob", async () => {
    const source = await Store.open(ws.root);
    await pushImage({ store: source, image: "busybox:latest", ref: `${reg.host}/pullme/bb:1`, env });
    for (let seed = 1; seed <= 6; seed++) {
      const random = rng(100 + seed);
      proxy.decide = (req) => (req.method === "GET" && random() < 0.5 ? (["truncate", "corrupt", "drop", "500"] as const)[Math.floor(random() * 4)] : undefined);
      const dir = `${ws.root}-pull-${seed}`;
      const store = await Store.open(dir);
      try {
        const r = await pullImage({ store, ref: `${proxy.host}/pullme/bb:1`, env, retry: FAST_RETRY });
        expect(r.manifest.layers.length).toBe(1);
      } catch (e) {
        expect(e).toBeInstanceOf(KilnError);
      }
      for (const f of await readdir(path.join(dir, "blobs/sha256"))) {
        const hex = createHash("sha256").update(await readFile(path.join(dir, "blobs/sha256", f))).digest("hex");
        expect(hex).toBe(f);
      }
      await rm(dir, { recursive: true, force: true });
    }
    proxy.decide = () => undefined;
    expect(proxy.injected.some((s) => s.endsWith("corrupt"))).toBe(true);
    expect(proxy.injected.some((s) => s.endsWith("truncate"))).toBe(true);
  });
});
