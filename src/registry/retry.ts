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
import { finalError, interrupted, TransientHttpError } from "./errors.js";

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

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "HEADERS_TIMEOUT",
  "BODY_TIMEOUT",
  "ERR_STREAM_PREMATURE_CLOSE",
  "DIGEST_MISMATCH",
]);

export function isRetryableError(e: unknown): boolean {
  const err = e as { code?: unknown; retryable?: boolean; cause?: unknown; address?: unknown; name?: unknown };
  if (err?.name === "AbortError" || err?.code === "INTERRUPTED") return false;
  if (err?.retryable === true) return true;
  if (err?.code === "ECONNREFUSED" && isLoopbackAddress(err.address)) return false;
  if (typeof err?.code === "string" && RETRYABLE_CODES.has(err.code)) return true;
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
