// The registry client's HTTP layer (registry/http.ts, on node:http):
// keep-alive pools, bodies, and the three timeouts by name. It loads no
// undici, whose module loading and WebAssembly parser cost every push and
// pull about a quarter of its CPU time.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, request } from "../../src/registry/http.js";
import { requireBuilt } from "../helpers/bin.js";
import { REPO } from "../helpers/kiln.js";

const agentWith = (ms: Partial<{ connectMs: number; headersMs: number; bodyMs: number }> = {}) =>
  new Agent({ tls: { rejectUnauthorized: true }, connections: 2, connectMs: 5000, headersMs: 5000, bodyMs: 5000, ...ms });

describe("registry/http.ts", () => {
  let server: Server;
  let base: string;
  const sockets = new Set<unknown>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      if (req.url === "/silent") return; // never answers
      if (req.url === "/stall") {
        res.writeHead(200, { "content-length": "10" });
        res.write("abc"); // and never the rest
        return;
      }
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(201, { "x-seen": `${req.method} ${req.url} ${req.headers["content-length"]} ${body}` });
        res.end("hello");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("sends method, query and body with its length; reuses the connection", async () => {
    const agent = agentWith();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await request(`${base}/v2/a/blobs/uploads/?mount=x&from=y`, { dispatcher: agent, method: "POST", body: "xyz" });
        expect(r.statusCode).toBe(201);
        expect(r.headers["x-seen"]).toBe("POST /v2/a/blobs/uploads/?mount=x&from=y 3 xyz");
        expect(await r.body.text()).toBe("hello");
      }
      const empty = await request(`${base}/post`, { dispatcher: agent, method: "POST" });
      expect(empty.headers["x-seen"]).toBe("POST /post 0");
      await empty.body.dump();
    } finally {
      await agent.close();
    }
    expect(sockets.size).toBe(1);
  });

  it("a server that never answers: HEADERS_TIMEOUT; a body that stalls: BODY_TIMEOUT", async () => {
    const agent = agentWith({ headersMs: 200, bodyMs: 200 });
    try {
      await expect(request(`${base}/silent`, { dispatcher: agent, method: "GET" })).rejects.toMatchObject({ code: "HEADERS_TIMEOUT", message: "no response headers within 200 ms" });
      const r = await request(`${base}/stall`, { dispatcher: agent, method: "GET" });
      await expect(r.body.text()).rejects.toMatchObject({ code: "BODY_TIMEOUT" });
    } finally {
      await agent.close();
    }
  });

  it("loading the registry client loads no undici", async () => {
    await requireBuilt("src/registry/http.ts", "src/registry/client.ts");
    const script = `
      import { createRequire } from "node:module";
      await import(${JSON.stringify(path.join(REPO, "dist/registry/client.js"))});
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const loaded = JSON.parse(execFileSync("node", ["--input-type=module", "-e", script], { encoding: "utf8" })) as string[];
    expect(loaded.filter((f) => f.includes("/node_modules/undici/"))).toEqual([]);
  });
});
