// The one retry policy of every registry request (pull, push, blob upload,
// token fetch, cache import/export, referrers). Each operation retries at
// exactly one level: a single request (RegistryClient.send) or a whole
// operation whose requests are sent once each (a blob upload restarts from
// HEAD, a download from GET, a PATCH resumes from the registry's offset) and
// which share one budget. Retries never nest, so a dead registry costs
// `attempts` tries, not attempts³.
//
// Worth another attempt: 5xx, 429, 408, dropped or reset connections,
// timeouts, corrupted or truncated bodies. Not worth one: a refused
// connection to a loopback address (nothing listens there; docker and skopeo
// fail at once too), and everything else. No new attempt starts once the
// deadline has passed; an attempt in progress is bounded by the transport's
// header and body idle timeouts instead, so a slow but live download is
// never cut. The error that ends the loop says what was tried (finalError).
import { setTimeout as sleep } from "node:timers/promises";
import { KilnError } from "../util/errors.js";
import { interrupted, TransientHttpError } from "./errors.js";

export interface RetryPolicy {
  /** Attempts in all, including the first. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** No attempt starts later than this after the first (default 90 s). */
  readonly deadlineMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000, deadlineMs: 90_000 };

/**
 * The attempts of one operation. `failed(e)` either waits out the backoff
 * (the caller then tries again) or throws the final error; nested steps of
 * one operation (a PATCH resume inside an upload) share the same budget.
 */
export class RetryBudget {
  readonly #policy: RetryPolicy;
  readonly #what: string;
  readonly #signal: AbortSignal | undefined;
  readonly #start = Date.now();
  #attempt = 1;
  /** Set once the budget gave up: a step that failed inside the operation
   * and an outer loop over it then report the same error once. */
  #final: { error: unknown } | undefined;

  /** `what`: the operation as a user reads it, "GET 127.0.0.1:5000/v2/app/manifests/1". */
  constructor(policy: RetryPolicy, what: string, signal?: AbortSignal) {
    this.#policy = policy;
    this.#what = what;
    this.#signal = signal;
  }

  get attempt(): number {
    return this.#attempt;
  }

  async failed(e: unknown): Promise<void> {
    if (this.#final) throw this.#final.error;
    if (this.#signal?.aborted) throw interrupted(this.#signal);
    const elapsed = Date.now() - this.#start;
    const deadline = this.#policy.deadlineMs ?? DEFAULT_RETRY.deadlineMs!;
    if (this.#attempt >= this.#policy.attempts || elapsed >= deadline || !isRetryableError(e)) {
      this.#final = { error: finalError(e, this.#what, this.#attempt, elapsed) };
      throw this.#final.error;
    }
    const backoff = Math.min(this.#policy.maxMs, this.#policy.baseMs * 2 ** (this.#attempt - 1));
    // Retry-After is the server's request; honour it (capped) over our guess.
    const after = e instanceof TransientHttpError ? e.retryAfterMs : undefined;
    const wait = Math.min(after !== undefined ? Math.min(after, this.#policy.maxMs) : Math.random() * backoff, deadline - elapsed);
    try {
      await sleep(wait, undefined, this.#signal ? { signal: this.#signal } : undefined);
    } catch {
      throw interrupted(this.#signal);
    }
    this.#attempt++;
  }
}

/** Run `fn` until it succeeds or the policy gives up. */
export async function withRetry<T>(policy: RetryPolicy, what: string, fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const budget = new RetryBudget(policy, what, signal);
  return retrying(budget, fn);
}

/** Run `fn` under an existing budget (an operation made of several steps). */
export async function retrying<T>(budget: RetryBudget, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn(budget.attempt);
    } catch (e) {
      await budget.failed(e);
    }
  }
}

/**
 * The network failures worth another attempt, by the code Node or undici
 * gives them, and what each becomes when the retries run out. The one
 * table: isRetryableError reads it to decide, finalError to convert.
 */
const NETWORK_KINDS: readonly { readonly code: "REGISTRY_UNREACHABLE" | "REGISTRY_TIMEOUT" | "REGISTRY_CONNECTION_LOST"; readonly says: string; readonly match: RegExp }[] = [
  { code: "REGISTRY_UNREACHABLE", says: "cannot connect", match: /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/ },
  { code: "REGISTRY_TIMEOUT", says: "no answer in time", match: /^(CONNECT_TIMEOUT|HEADERS_TIMEOUT|BODY_TIMEOUT|ETIMEDOUT)$/ },
  { code: "REGISTRY_CONNECTION_LOST", says: "connection lost", match: /^(ECONNRESET|EPIPE|ERR_STREAM_PREMATURE_CLOSE)$/ },
];

function networkKind(code: unknown): (typeof NETWORK_KINDS)[number] | undefined {
  return typeof code === "string" ? NETWORK_KINDS.find((k) => k.match.test(code)) : undefined;
}

export function isRetryableError(e: unknown): boolean {
  const err = e as { code?: unknown; retryable?: boolean; cause?: unknown; address?: unknown; name?: unknown };
  if (err?.name === "AbortError" || err?.code === "INTERRUPTED") return false;
  if (err?.retryable === true) return true;
  if (err?.code === "ECONNREFUSED" && isLoopbackAddress(err.address)) return false;
  // ENOTFOUND is final: a name that does not resolve will not resolve in a second.
  if (err?.code !== "ENOTFOUND" && networkKind(err?.code)) return true;
  // A blob whose bytes did not match its digest: corrupted on the way, fetch it again.
  if (err?.code === "DIGEST_MISMATCH") return true;
  return err?.cause !== undefined && err.cause !== e ? isRetryableError(err.cause) : false;
}

function isLoopbackAddress(a: unknown): boolean {
  return typeof a === "string" && (a === "::1" || /^127\./.test(a) || /^::ffff:127\./.test(a));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** The network error code in `e` or its causes (wrapped errors keep theirs in `cause`). */
function networkCode(e: unknown): string | undefined {
  for (let c = e as { code?: unknown; cause?: unknown } | undefined, i = 0; c && i < 5; c = c.cause as typeof c, i++) {
    if (networkKind(c.code)) return c.code as string;
  }
  return undefined;
}

/**
 * The error that ends a retry loop, saying what was tried: `what` (method
 * and URL), how many attempts over how long, and the last cause. Registry
 * answers (KilnErrors) keep their code; network failures get one of
 * REGISTRY_UNREACHABLE, REGISTRY_TIMEOUT, REGISTRY_CONNECTION_LOST;
 * an abort is INTERRUPTED.
 */
export function finalError(e: unknown, what: string, attempts: number, elapsedMs: number): unknown {
  if ((e as { name?: unknown })?.name === "AbortError") return interrupted();
  if (e instanceof KilnError && e.code === "INTERRUPTED") return e;
  const tried = ` (${attempts} attempt${attempts > 1 ? "s" : ""} in ${(elapsedMs / 1000).toFixed(1)} s)`;
  const base = e instanceof TransientHttpError ? e.final : e;
  if (base instanceof KilnError) {
    if (attempts === 1) return base;
    return new KilnError(base.code, `${base.message}${tried}`, { cause: base, ...(base.hint ? { hint: base.hint } : {}) });
  }
  const code = networkCode(e);
  const kind = networkKind(code);
  if (!kind) return e;
  const detail = (e as Error).message && !(e as Error).message.includes(code!) ? `${code}: ${(e as Error).message}` : (e as Error).message || code;
  return new KilnError(kind.code, `${what}: ${kind.says} (${detail})${tried}`, {
    cause: e,
    hint: kind.code === "REGISTRY_TIMEOUT" ? "the registry is up but does not answer; raise KILN_REGISTRY_TIMEOUT if it is only slow" : "check the registry address and that it is running",
  });
}
