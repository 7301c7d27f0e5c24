// Byte progress of pulls: the library's pull() reports bytes received per
// blob (monotonic, the last equal to the size), and `kiln pull` in plain
// output prints a "Downloading X/Y" line for a large blob at most once a
// second while it comes in — through a proxy that trickles the registry's
// answers, so the download takes seconds.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pull, type PullEvent } from "../../src/index.js";
import { pushImage } from "../../src/registry/push.js";
import { Store } from "../../src/store/store.js";
import { requireBuilt, shellAsync } from "../helpers/bin.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startTrickleProxy, type TestServer } from "./helpers/hostile-servers.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

describe("pull byte progress", () => {
  const ws = useWorkspace();
  let reg: RegistryServer;
  let slow: TestServer;
  let layer: { digest: string; size: number };
  beforeAll(async () => {
    await requireBuilt("src/cli/byte-progress.ts", "src/registry/blob-download.ts");
    reg = await startRegistry();
    const store = await Store.open(path.join(ws.work, "source"));
    const img = await makeTinyImage(store, { files: { "blob.bin": randomBytes(2 * 1024 * 1024).toString("base64") }, label: "progress" });
    layer = img.layer;
    await store.tag("big:1", img.manifestDescriptor);
    await pushImage({ store, image: "big:1", ref: `${reg.host}/team/big:1`, env: { DOCKER_CONFIG: "/nonexistent" } });
    // 96 KB every 50 ms: the ~2 MB layer takes about a second and a half.
    slow = await startTrickleProxy(reg.port, 96 * 1024);
  }, 60_000);
  afterAll(async () => {
    await slow?.stop();
    await reg?.stop();
  });

  it("pull() reports each blob's bytes as they arrive, ending at its size", async () => {
    const events: PullEvent[] = [];
    const store = await Store.open(path.join(ws.work, "lib"));
    await pull({ store, ref: `${slow.host}/team/big:1`, env: { DOCKER_CONFIG: "/nonexistent" }, onEvent: (e) => events.push(e) });
    const seen = events.flatMap((e) => (e.type === "progress" && e.digest === layer.digest ? [e.bytes] : []));
    expect(seen.length).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(layer.size);
  });

  it("kiln pull in plain output prints Downloading lines for the large layer, then Pull complete", async () => {
    const r = await shellAsync(`kiln --root ${path.join(ws.work, "cli")} pull ${slow.host}/team/big:1`, { DOCKER_CONFIG: "/nonexistent" });
    expect(r.code, r.stderr).toBe(0);
    const short = layer.digest.slice(7, 19);
    expect(r.stderr).toMatch(new RegExp(`^${short}: Downloading [\\d.]+ ?[kMG]?B/[\\d.]+ ?[kMG]?B\\n`, "m"));
    expect(r.stderr).toContain(`${short}: Pull complete\n`);
  });
});
