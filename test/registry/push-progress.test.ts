// Byte progress of pushes: the library's push() reports bytes sent per blob
// (monotonic, the last equal to the size), and `kiln push` in plain output
// prints a "Pushing X/Y" line for a large blob at most once a second while
// it goes up — through a proxy that takes upload bodies in slowly, so the
// upload takes seconds.
import { randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { push, type PushEvent } from "../../src/index.js";
import { Store } from "../../src/store/store.js";
import { requireBuilt, shellAsync } from "../helpers/bin.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

/** Forwards to the registry, reading each request body at `bytesPerTick` every 50 ms. */
async function slowUploadProxy(targetPort: number, bytesPerTick: number): Promise<{ host: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const up = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      ur.pipe(res);
    });
    up.on("error", () => res.destroy());
    let budget = bytesPerTick;
    const tick = setInterval(() => {
      budget = bytesPerTick;
      req.resume();
    }, 50);
    req.on("data", (c: Buffer) => {
      up.write(c);
      budget -= c.length;
      if (budget <= 0) req.pause();
    });
    req.on("end", () => {
      clearInterval(tick);
      up.end();
    });
    req.on("close", () => clearInterval(tick));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("push byte progress", () => {
  const ws = useWorkspace();
  let reg: RegistryServer;
  let slow: { host: string; stop(): Promise<void> };
  let layer: { digest: string; size: number };
  let store: Store;
  beforeAll(async () => {
    await requireBuilt("src/cli/registry-commands.ts", "src/registry/blob-upload.ts", "src/registry/byte-events.ts");
    reg = await startRegistry();
    store = await Store.open(path.join(ws.work, "source"));
    const img = await makeTinyImage(store, { files: { "blob.bin": randomBytes(12 * 1024 * 1024).toString("base64") }, label: "push-progress" });
    layer = img.layer;
    await store.tag("big:1", img.manifestDescriptor);
    // 1 MB every 50 ms: the ~16 MB layer (more than loopback's socket buffers
    // take in at once) takes about a second to go up.
    slow = await slowUploadProxy(reg.port, 1024 * 1024);
  }, 60_000);
  afterAll(async () => {
    await slow?.stop();
    await reg?.stop();
  });

  it("push() reports each uploaded blob's bytes as they leave, ending at its size", async () => {
    const events: PushEvent[] = [];
    await push({ store, image: "big:1", ref: `${slow.host}/team/lib:1`, env: { DOCKER_CONFIG: "/nonexistent" }, onEvent: (e) => events.push(e) });
    const seen = events.flatMap((e) => (e.type === "progress" && e.digest === layer.digest ? [e.bytes] : []));
    expect(seen.length, String(seen)).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1), `${seen} of ${layer.size}`).toBe(layer.size);
    expect(events.some((e) => e.type === "blob" && e.digest === layer.digest && e.result === "uploaded")).toBe(true);
  });

  it("kiln push in plain output prints Pushing lines for the large layer, then Pushed", async () => {
    const r = await shellAsync(`kiln --root ${path.join(ws.work, "source")} push big:1 ${slow.host}/team/cli:1`, { DOCKER_CONFIG: "/nonexistent" });
    expect(r.code, r.stderr).toBe(0);
    const short = layer.digest.slice(7, 19);
    expect(r.stderr).toMatch(new RegExp(`^${short}: Pushing [\\d.]+ ?[kMG]?B/[\\d.]+ ?[kMG]?B\\n`, "m"));
    expect(r.stderr).toContain(`${short}: Pushed\n`);
  });
});
