// Re-pushing an unchanged image is one round of HEAD requests sent all at
// once (issue 16: under 0.3 s), not blob HEADs four at a time followed by
// manifest HEADs one by one: against a registry 150 ms away that is the
// difference between ~0.3 s and over a second.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Descriptor } from "../../src/oci/descriptor.js";
import { pushImage } from "../../src/registry/push.js";
import { Store } from "../../src/store/store.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { type DelayProxy, startDelayProxy } from "./helpers/hostile-servers.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

const env = { DOCKER_CONFIG: "/nonexistent" };
const DELAY = 150;

describe("re-push of an unchanged image", () => {
  const ws = useWorkspace();
  let reg: RegistryServer;
  let far: DelayProxy;
  beforeAll(async () => {
    reg = await startRegistry();
    far = await startDelayProxy(reg.port, DELAY);
  });
  afterAll(async () => {
    await far?.stop();
    await reg?.stop();
  });

  it("HEADs every blob and manifest in one parallel round, and uploads nothing", async () => {
    const store = await Store.open(ws.root);
    // An index of six single-layer images: 12 blobs and 7 manifests.
    const images: Descriptor[] = [];
    for (let i = 0; i < 6; i++) images.push((await makeTinyImage(store, { files: { [`f${i}.txt`]: `${i}\n` }, label: String(i) })).manifestDescriptor);
    const index = await store.writeJson("application/vnd.oci.image.index.v1+json", {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: images.map((d, i) => ({ ...d, platform: { os: "linux", architecture: ["amd64", "arm64", "s390x", "ppc64le", "riscv64", "386"][i]! } })),
    });
    await store.tag("many:1", { mediaType: "application/vnd.oci.image.index.v1+json", digest: index.digest, size: index.size });
    await pushImage({ store, image: "many:1", ref: `${reg.host}/team/many:1`, env });

    for (const k of Object.keys(far.counts)) delete far.counts[k];
    const t0 = Date.now();
    const events: string[] = [];
    await pushImage({ store, image: "many:1", ref: `${far.host}/team/many:1`, env, onEvent: (e) => events.push(e.type === "referrer" ? "referrer" : e.result) });
    const ms = Date.now() - t0;
    console.log(`re-push through a ${DELAY} ms registry: ${ms} ms, requests ${JSON.stringify(far.counts)}, at most ${far.maxInFlight()} in flight`);
    expect(events.every((e) => e === "exists")).toBe(true);
    expect(events.length).toBe(12 + 7);
    expect(Object.keys(far.counts).sort()).toEqual(["HEAD"]);
    // /v2/, then the 19 HEADs together.
    expect(far.counts.HEAD).toBe(1 + 19);
    expect(far.maxInFlight()).toBeGreaterThanOrEqual(16);
    expect(ms).toBeLessThan(6 * DELAY);
  });
});
