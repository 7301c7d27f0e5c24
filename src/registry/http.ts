// HTTP for the registry client, on node:http and node:https: pooled
// keep-alive connections per registry, and request() with the three
// timeouts a registry needs (connect, response headers, body idle). Node's
// own HTTP stack is part of its start-up snapshot and parses with the
// native llhttp; undici, used here before, cost every push and pull about a
// quarter of its CPU time in module loading and compiling its WebAssembly
// parser (an unchanged re-push does nothing else but a few HEADs).
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";

export interface AgentOptions {
  readonly tls: { readonly ca?: readonly string[]; readonly cert?: Buffer; readonly key?: Buffer; readonly rejectUnauthorized: boolean };
  /** Connections per origin. */
  readonly connections: number;
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
}

/** The connection pools (plain and TLS) of one registry host, and its timeouts. */
export class Agent {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly timeouts: Pick<AgentOptions, "connectMs" | "headersMs" | "bodyMs">;

  constructor(o: AgentOptions) {
    this.#http = new http.Agent({ keepAlive: true, maxSockets: o.connections });
    this.#https = new https.Agent({
      keepAlive: true,
      maxSockets: o.connections,
      rejectUnauthorized: o.tls.rejectUnauthorized,
      ...(o.tls.ca ? { ca: [...o.tls.ca] } : {}),
      ...(o.tls.cert && o.tls.key ? { cert: o.tls.cert, key: o.tls.key } : {}),
    });
    this.timeouts = { connectMs: o.connectMs, headersMs: o.headersMs, bodyMs: o.bodyMs };
  }

  pool(protocol: string): http.Agent {
    return protocol === "https:" ? this.#https : this.#http;
  }

  async close(): Promise<void> {
    this.#http.destroy();
    this.#https.destroy();
  }
}

export type ResponseBody = IncomingMessage & {
  /** The whole body as text (only for small answers). */
  text(): Promise<string>;
  /** Discard the body; one larger than 256 KiB is cut off (the connection is then not reused). */
  dump(): Promise<void>;
};

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: ResponseBody;
}

export interface RequestOptions {
  readonly dispatcher: Agent;
  readonly method: string;
  readonly headers?: Record<string, string>;
  /** A buffer or string (sent with its Content-Length), or a stream (the caller sets Content-Length). */
  readonly body?: Buffer | string | Readable;
  readonly signal?: AbortSignal;
}

/** A timeout of one phase of a request; `code` is what the retry policy matches. */
export class HttpTimeoutError extends Error {
  constructor(
    readonly code: "CONNECT_TIMEOUT" | "HEADERS_TIMEOUT" | "BODY_TIMEOUT",
    ms: number,
  ) {
    const what = { CONNECT_TIMEOUT: "no connection", HEADERS_TIMEOUT: "no response headers", BODY_TIMEOUT: "the response body stalled" }[code];
    super(`${what} within ${ms} ms`);
    this.name = "HttpTimeoutError";
  }
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const DUMP_LIMIT = 256 * 1024;

/** Send one request; resolves when the response headers are in. */
export function request(url: string | URL, o: RequestOptions): Promise<HttpResponse> {
  const u = typeof url === "string" ? new URL(url) : url;
  const mod = u.protocol === "https:" ? https : http;
  const t = o.dispatcher.timeouts;
  const headers: Record<string, string> = { ...o.headers };
  const fixed = typeof o.body === "string" ? Buffer.from(o.body) : Buffer.isBuffer(o.body) ? o.body : undefined;
  if (fixed && headers["content-length"] === undefined) headers["content-length"] = String(fixed.length);
  if (o.body === undefined && BODY_METHODS.has(o.method) && headers["content-length"] === undefined) headers["content-length"] = "0";
  return new Promise<HttpResponse>((resolve, reject) => {
    let phase: "connect" | "headers" | "body" = "connect";
    let res: IncomingMessage | undefined;
    const req = mod.request(u, {
      method: o.method,
      headers,
      agent: o.dispatcher.pool(u.protocol),
      timeout: t.connectMs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    // One idle timer on the socket, re-armed per phase: connecting, then
    // waiting for headers (also while an upload's body is being written:
    // any progress resets it), then the response body.
    req.on("timeout", () => {
      const err = phase === "connect" ? new HttpTimeoutError("CONNECT_TIMEOUT", t.connectMs) : phase === "headers" ? new HttpTimeoutError("HEADERS_TIMEOUT", t.headersMs) : new HttpTimeoutError("BODY_TIMEOUT", t.bodyMs);
      if (res) res.destroy(err);
      req.destroy(err);
    });
    req.on("socket", (s: Socket) => {
      const connected = (): void => {
        if (phase !== "connect") return;
        phase = "headers";
        req.setTimeout(t.headersMs);
      };
      if (s.connecting || (u.protocol === "https:" && !(s as TLSSocket).encrypted)) s.once(u.protocol === "https:" ? "secureConnect" : "connect", connected);
      else connected();
    });
    req.once("response", (r: IncomingMessage) => {
      res = r;
      phase = "body";
      req.setTimeout(t.bodyMs);
      resolve({ statusCode: r.statusCode ?? 0, headers: r.headers, body: withHelpers(r) });
    });
    req.on("error", (e) => {
      // After the response, a failure shows in the body stream; before it, here.
      if (!res) reject(e);
    });
    if (o.body === undefined || fixed) req.end(fixed);
    else {
      const src = o.body as Readable;
      src.on("error", (e) => req.destroy(e));
      src.pipe(req);
    }
  });
}

function withHelpers(r: IncomingMessage): ResponseBody {
  return Object.assign(r, {
    async text(): Promise<string> {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    dump(): Promise<void> {
      return new Promise<void>((resolve) => {
        if (r.readableEnded || r.destroyed) return resolve();
        let seen = 0;
        r.on("data", (c: Buffer) => {
          seen += c.length;
          if (seen > DUMP_LIMIT) r.destroy();
        });
        r.once("end", () => resolve());
        r.once("close", () => resolve());
        r.once("error", () => resolve());
        r.resume();
      });
    },
  });
}
