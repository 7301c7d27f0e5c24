// Registries that misbehave in the ways the network tests need, on
// 127.0.0.1: one that never answers a request, one that serves an endless
// "manifest" (made as it is sent, never held in memory), and a proxy that
// trickles a real registry's answers a few KB at a time.
import { createServer, request, type Server, type ServerResponse } from "node:http";

export interface TestServer {
  readonly host: string;
  /** Bytes of response bodies written so far. */
  readonly sent: () => number;
  stop(): Promise<void>;
}

async function listen(server: Server, sent: () => number): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    sent,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Answers GET/HEAD /v2/ (a plain-http registry without auth) and never
 * answers anything else: no status line, no headers. */
export function startSilentRegistry(): Promise<TestServer> {
  const server = createServer((req, res) => {
    if (req.url === "/v2/") {
      res.writeHead(200, { "content-type": "application/json", "docker-distribution-api-version": "registry/2.0" });
      res.end("{}");
    }
    // else: hold the request open forever
  });
  return listen(server, () => 0);
}

/** Serves every manifest GET as a chunked JSON body of `total` bytes,
 * generated as the client reads (backpressure respected). */
export function startHugeManifestRegistry(total: number): Promise<TestServer> {
  let sent = 0;
  const server = createServer((req, res) => {
    if (req.url === "/v2/") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    streamFiller(res, total, (n) => (sent += n));
  });
  return listen(server, () => sent);
}

function streamFiller(res: ServerResponse, total: number, count: (n: number) => void): void {
  const chunk = Buffer.from(`{"schemaVersion":2,"annotations":{"x":"${"a".repeat(64 * 1024)}`);
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const c = chunk.subarray(0, Math.min(chunk.length, left));
      left -= c.length;
      count(c.length);
      if (!res.write(c)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  res.on("close", () => (left = 0));
  pump();
}

/** A proxy to a registry on 127.0.0.1:`targetPort` that passes requests
 * through but sends response bodies `bytesPerTick` bytes every 50 ms. */
export function startTrickleProxy(targetPort: number, bytesPerTick: number): Promise<TestServer> {
  let sent = 0;
  const server = createServer((req, res) => {
    const up = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      ur.pause();
      let pending = Buffer.alloc(0);
      let ended = false;
      ur.on("data", (c: Buffer) => {
        pending = Buffer.concat([pending, c]);
        ur.pause();
      });
      ur.on("end", () => (ended = true));
      const tick = setInterval(() => {
        if (pending.length === 0) {
          if (ended) {
            clearInterval(tick);
            res.end();
          } else ur.resume();
          return;
        }
        const part = pending.subarray(0, bytesPerTick);
        pending = pending.subarray(part.length);
        sent += part.length;
        res.write(part);
      }, 50);
      res.on("close", () => {
        clearInterval(tick);
        ur.destroy();
      });
    });
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  });
  return listen(server, () => sent);
}

export interface DelayProxy extends TestServer {
  /** The most requests that were in flight at once. */
  readonly maxInFlight: () => number;
  /** Requests seen, by method. */
  readonly counts: Record<string, number>;
}

/** A proxy to a registry on 127.0.0.1:`targetPort` that holds every answer
 * back `delayMs` (a distant registry), counting requests in flight. */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  let inFlight = 0;
  let max = 0;
  const counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    counts[req.method!] = (counts[req.method!] ?? 0) + 1;
    max = Math.max(max, ++inFlight);
    const up = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      setTimeout(() => {
        inFlight--;
        res.writeHead(ur.statusCode!, ur.headers);
        ur.pipe(res);
      }, delayMs);
    });
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  });
  const s = await listen(server, () => 0);
  return { ...s, maxInFlight: () => max, counts };
}
