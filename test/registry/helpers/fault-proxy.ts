// A fault-injecting HTTP proxy on 127.0.0.1 in front of the registry. It
// forwards requests unchanged (Host included, so upload Locations point
// back at the proxy), counts them by method, and for the requests `decide`
// picks: drops the connection before or after forwarding, answers 500 or
// 429, truncates the response body, or flips a byte in it.
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export type Fault = "drop" | "drop-response" | "500" | "429" | "truncate" | "corrupt";

export interface FaultProxy {
  readonly host: string;
  readonly counts: Record<string, number>;
  /** Response body bytes sent to clients so far (what they downloaded). */
  bytesOut: number;
  /** Faults injected so far, "METHOD path -> fault". */
  readonly injected: string[];
  decide: (req: IncomingMessage, n: number) => Fault | undefined;
  resetCounts(): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let n = 0;
  const counts: Record<string, number> = {};
  const injected: string[] = [];
  const proxy: FaultProxy = {
    host: "",
    counts,
    bytesOut: 0,
    injected,
    decide: () => undefined,
    resetCounts() {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    counts[req.method!] = (counts[req.method!] ?? 0) + 1;
    const fault = proxy.decide(req, n++);
    if (fault) injected.push(`${req.method} ${req.url} -> ${fault}`);
    if (fault === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault === "500" || fault === "429") {
      req.resume();
      req.on("end", () => {
        res.writeHead(Number(fault), { "content-type": "application/json", ...(fault === "429" ? { "retry-after": "0" } : {}) });
        res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: `injected ${fault}` }] }));
      });
      return;
    }
    const up = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      if (fault === "drop-response") {
        ur.resume();
        ur.on("end", () => req.socket.destroy());
        return;
      }
      res.writeHead(ur.statusCode!, ur.headers);
      const len = Number(ur.headers["content-length"] ?? 0);
      let sent = 0;
      ur.on("data", (c: Buffer) => {
        if (fault === "truncate" && sent + c.length >= Math.floor(len / 2)) {
          res.write(c.subarray(0, Math.max(0, Math.floor(len / 2) - sent)));
          res.socket?.destroy();
          ur.destroy();
          return;
        }
        if (fault === "corrupt" && sent === 0 && c.length > 0) {
          c = Buffer.from(c);
          c[0] = c[0]! ^ 0xff;
        }
        sent += c.length;
        proxy.bytesOut += c.length;
        res.write(c);
      });
      ur.on("end", () => res.end());
    });
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return Object.assign(proxy, {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
