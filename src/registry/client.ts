// One registry host: scheme discovery (GET /v2/), authentication (anonymous,
// basic, bearer tokens from the WWW-Authenticate challenge) and requests
// with retries (retry.ts: one policy, never nested). Knows nothing about
// manifests or blobs; see repository.ts.
import type { Readable } from "node:stream";
import { type Agent, request, type ResponseBody } from "./http.js";
import { MAX_SMALL_RESPONSE_BYTES } from "../oci/limits.js";
import { KilnError } from "../util/errors.js";
import { readCapped } from "../util/read-capped.js";
import { type AuthChallenge, parseChallenge } from "./auth-challenge.js";
import { type Credentials, lookupCredentials } from "./credentials.js";
import { isRetryableStatus, registryError, TransientHttpError } from "./errors.js";
import { DEFAULT_RETRY, parseRetryAfter, type RetryPolicy, withRetry } from "./retry.js";
import { TokenCache } from "./token-cache.js";
import { looksLikePlainHttpServer, makeAgent, mayUsePlainHttp, plainHttpOnly, type TransportOptions } from "./transport.js";

export interface ClientOptions extends TransportOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Use these instead of the docker config (kiln login checks them). */
  readonly credentials?: Credentials;
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
}

/** What every registry client of one command shares (config file, flags,
 * timeouts): ClientOptions less the per-call parts. */
export type RegistryAccess = Omit<ClientOptions, "credentials" | "signal">;

export type Body = Buffer | (() => Readable);

export interface SendOptions {
  readonly method: string;
  /** Path from the host root, e.g. /v2/team/app/manifests/1.0, or a full URL (upload locations). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A buffer, or a factory so a retried request re-opens its stream. */
  readonly body?: Body;
  /** Token scopes the request needs, e.g. repository:team/app:pull. */
  readonly scopes: readonly string[];
  /** Statuses that are answers, not errors (default 2xx). */
  readonly ok?: readonly number[];
  /** For 404 messages: "manifest team/app:1.0". */
  readonly what?: string;
  /** false: a single attempt (the caller retries a larger operation under
   * its own budget, retry.ts); errors then come raw, unconverted. */
  readonly retry?: boolean;
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: ResponseBody;
  /** The absolute URL that answered (for resolving relative Locations). */
  readonly url: string;
}

export class RegistryClient {
  readonly host: string;
  readonly opts: ClientOptions;
  readonly agent: Agent;
  readonly retryPolicy: RetryPolicy;
  readonly tokens = new TokenCache();
  /** Counts of requests by method, for diagnostics and tests. */
  readonly requestCounts: Record<string, number> = {};
  #base: Promise<string> | undefined;
  #challenge: AuthChallenge | undefined;
  #creds: Promise<Credentials | undefined> | undefined;
  readonly #pendingTokens = new Map<string, Promise<string>>();

  constructor(host: string, opts: ClientOptions = {}) {
    this.host = host;
    this.opts = opts;
    this.agent = makeAgent(host, opts);
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Run `fn` (requests sent with retry: false) under the retry policy;
   * `what` names it in the final error. */
  attempt<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    return withRetry(this.retryPolicy, what, fn, this.opts.signal);
  }

  /** The base URL (https://host or, where allowed, http://host), found by
   * pinging /v2/: one attempt, made inside the caller's retry loop. */
  base(): Promise<string> {
    this.#base ??= this.#discover().catch((e) => {
      this.#base = undefined;
      throw e;
    });
    return this.#base;
  }

  async #discover(): Promise<string> {
    if (plainHttpOnly(this.host, this.opts)) {
      await this.#ping(`http://${this.host}`).catch((e: unknown) => {
        throw tlsError(this.host, e);
      });
      return `http://${this.host}`;
    }
    try {
      await this.#ping(`https://${this.host}`);
      return `https://${this.host}`;
    } catch (e) {
      if (!mayUsePlainHttp(this.host, this.opts) || !looksLikePlainHttpServer(e)) throw tlsError(this.host, e);
    }
    await this.#ping(`http://${this.host}`);
    return `http://${this.host}`;
  }

  async #ping(base: string): Promise<void> {
    // HEAD: the answer is all in the status and WWW-Authenticate, and an
    // unchanged re-push then makes nothing but HEAD requests.
    const signal = this.opts.signal ? { signal: this.opts.signal } : {};
    let r = await request(`${base}/v2/`, { dispatcher: this.agent, method: "HEAD", ...signal });
    this.#count("HEAD");
    await r.body.dump();
    let text = "";
    if (r.statusCode === 404 || r.statusCode === 405) {
      r = await request(`${base}/v2/`, { dispatcher: this.agent, method: "GET", ...signal });
      this.#count("GET");
      text = await readText(r.body);
    }
    if (r.statusCode === 401) {
      this.#challenge = parseChallenge(r.headers["www-authenticate"]);
      return;
    }
    if (r.statusCode >= 200 && r.statusCode < 300) return;
    const err = registryError(r.statusCode, text, { host: this.host, method: "GET", path: "/v2/" });
    if (isRetryableStatus(r.statusCode)) throw new TransientHttpError(r.statusCode, parseRetryAfter(r.headers["retry-after"]), err);
    throw err;
  }

  /** The auth scheme the registry asked for at /v2/ (undefined: none). */
  async challenge(): Promise<AuthChallenge | undefined> {
    await this.attempt(`HEAD ${this.host}/v2/`, () => this.base());
    return this.#challenge;
  }

  credentials(): Promise<Credentials | undefined> {
    this.#creds ??= this.opts.credentials ? Promise.resolve(this.opts.credentials) : lookupCredentials(this.host, this.opts.env);
    return this.#creds;
  }

  /** Send a request; throws a KilnError for any status not in `ok`. */
  async send(o: SendOptions): Promise<Response> {
    const once = (): Promise<Response> => this.#sendAuthed(o);
    return o.retry === false ? once() : this.attempt(`${o.method} ${displayUrl(this.host, o.path)}`, once);
  }

  async #sendAuthed(o: SendOptions): Promise<Response> {
    const base = await this.base();
    const url = /^https?:\/\//.test(o.path) ? o.path : `${base}${o.path}`;
    let auth = await this.#authorization(o.scopes, false);
    let r = await this.#raw(url, o, auth);
    if (r.status === 401) {
      // A fresh or wider token may fix it (expired, or scope upgraded).
      const c = parseChallenge(r.headers["www-authenticate"]);
      await r.body.dump();
      if (c) this.#challenge = c;
      const extra = c?.params.scope ? c.params.scope.split(" ") : [];
      auth = await this.#authorization([...o.scopes, ...extra], true);
      r = await this.#raw(url, o, auth);
    }
    const ok = o.ok ?? [];
    if ((r.status >= 200 && r.status < 300) || ok.includes(r.status)) return r;
    const text = o.method === "HEAD" ? (await r.body.dump().catch(() => {}), "") : await readText(r.body).catch(() => "");
    const err = registryError(r.status, text, { host: this.host, method: o.method, path: new URL(url).pathname, ...(o.what ? { what: o.what } : {}) });
    if (isRetryableStatus(r.status)) throw new TransientHttpError(r.status, parseRetryAfter(r.headers["retry-after"]), err);
    throw err;
  }

  async #raw(url: string, o: SendOptions, auth: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": "kiln", ...o.headers };
    if (auth) headers.authorization = auth;
    const body = typeof o.body === "function" ? o.body() : o.body;
    this.#count(o.method);
    const r = await request(url, {
      dispatcher: this.agent,
      method: o.method as "GET",
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    });
    return { status: r.statusCode, headers: r.headers, body: r.body, url };
  }

  #count(method: string): void {
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1;
  }

  /** The Authorization header for these scopes, fetching a token if needed. */
  async #authorization(scopes: readonly string[], refresh: boolean): Promise<string | undefined> {
    await this.base();
    const c = this.#challenge;
    if (!c) return undefined;
    const creds = await this.credentials();
    if (c.scheme === "basic") {
      if (!creds?.username || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    const service = c.params.service ?? "";
    const key = TokenCache.key(service, scopes);
    if (refresh) this.tokens.clear(key);
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    // Parallel uploads share one token request per scope set.
    let pending = this.#pendingTokens.get(key);
    if (!pending) {
      pending = this.fetchToken(c, scopes, creds)
        .then(({ token, expiresIn }) => {
          this.tokens.set(key, token, expiresIn);
          return token;
        })
        .finally(() => this.#pendingTokens.delete(key));
      this.#pendingTokens.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  /** Ask the challenge's realm for a token (GET, or the OAuth2 POST for
   * identity tokens): one attempt, inside the caller's retry loop. */
  async fetchToken(c: AuthChallenge, scopes: readonly string[], creds: Credentials | undefined): Promise<{ token: string; expiresIn?: number }> {
    const realm = c.params.realm;
    if (!realm) throw new KilnError("REGISTRY_AUTH_INVALID", `${this.host} asked for a bearer token but gave no realm`);
    const u = new URL(realm);
    const headers: Record<string, string> = { "user-agent": "kiln" };
    let method: "GET" | "POST" = "GET";
    let body: string | undefined;
    if (creds?.identityToken) {
      method = "POST";
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, service: c.params.service ?? "", client_id: "kiln" });
      if (scopes.length) form.set("scope", scopes.join(" "));
      body = form.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else {
      if (c.params.service) u.searchParams.set("service", c.params.service);
      for (const s of new Set(scopes)) u.searchParams.append("scope", s);
      if (creds?.username && creds.password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      }
    }
    {
      this.#count(`TOKEN`);
      const r = await request(u, { dispatcher: this.agent, method, headers, ...(body ? { body } : {}), ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
      const text = await readText(r.body);
      if (r.statusCode !== 200) {
        const err = registryError(r.statusCode, text, { host: this.host, method, path: `token ${u.origin}${u.pathname}` });
        if (isRetryableStatus(r.statusCode)) throw new TransientHttpError(r.statusCode, parseRetryAfter(r.headers["retry-after"]), err);
        throw err;
      }
      let j: { token?: string; access_token?: string; expires_in?: number };
      try {
        j = JSON.parse(text) as typeof j;
      } catch (e) {
        throw new KilnError("REGISTRY_AUTH_INVALID", `the token server ${u.origin} answered with something that is not JSON`, { cause: e });
      }
      const token = j?.token ?? j?.access_token; // `null` is JSON too
      if (!token) throw new KilnError("REGISTRY_AUTH_INVALID", `the token server ${u.origin} returned no token`);
      return { token, ...(j.expires_in ? { expiresIn: j.expires_in } : {}) };
    }
  }
}

function tlsError(host: string, e: unknown): unknown {
  const code = (e as { code?: string }).code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new KilnError("REGISTRY_TLS", `cannot verify the TLS certificate of ${host}: ${(e as Error).message}`, {
      cause: e,
      hint: `trust its CA with ca = ["FILE"] under [registry."${host}"] in the kiln config (docs/registry-config.md), --tls-ca FILE or /etc/docker/certs.d/${host}/ca.crt; or (unsafe) --insecure-registry ${host}`,
    });
  }
  return e;
}

/** A request as the final error names it: no query (upload URLs carry long state tokens). */
function displayUrl(host: string, p: string): string {
  if (!/^https?:\/\//.test(p)) return `${host}${p.split("?")[0]}`;
  const u = new URL(p);
  return `${u.host}${u.pathname}`;
}

/** A small answer (an error body, a token) as text, bounded: a registry
 * cannot make kiln buffer an endless body. */
export async function readText(body: AsyncIterable<Buffer | string>): Promise<string> {
  return (await readCapped(body, { what: "a registry answer", limit: MAX_SMALL_RESPONSE_BYTES })).toString("utf8");
}
