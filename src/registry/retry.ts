// Retry with exponential backoff and full jitter. Used around whole
// operations (a blob upload restarts from POST, a download from GET) rather
// than single requests, so a stream body is simply re-opened.
import { setTimeout as sleep } from "node:timers/promises";
import { isRetryableError, TransientHttpError } from "./errors.js";

export interface RetryPolicy {
  /** Attempts in all, including the first. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000 };

export async function withRetry<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= policy.attempts || !isRetryableError(e) || signal?.aborted) {
        throw e instanceof TransientHttpError ? e.final : e;
      }
      const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      // Retry-After is the server's request; honour it (capped) over our guess.
      const after = e instanceof TransientHttpError ? e.retryAfterMs : undefined;
      const wait = after !== undefined ? Math.min(after, policy.maxMs) : Math.random() * backoff;
      await sleep(wait, undefined, signal ? { signal } : undefined);
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}
