// Registry failures as KilnErrors with stable codes. The registry's own
// error JSON ({"errors":[{"code","message","detail"}]}) is shown verbatim,
// because its message ("blob unknown to registry") is what a user searches.
import { KilnError } from "../util/errors.js";

export interface RegistryErrorBody {
  readonly errors?: readonly { code?: string; message?: string; detail?: unknown }[];
}

export interface RequestContext {
  readonly host: string;
  readonly method: string;
  readonly path: string;
  /** What was being looked up, for 404s: "repository or tag", "blob". */
  readonly what?: string;
}

/** Turn a non-2xx response into a KilnError. `body` is the response text. */
export function registryError(status: number, body: string, ctx: RequestContext): KilnError {
  const regErrors = parseErrors(body);
  const first = regErrors[0];
  const regText = regErrors.map((e) => `${e.code ?? "UNKNOWN"}: ${e.message ?? ""}${e.detail ? ` (${detailText(e.detail)})` : ""}`).join("; ");
  const where = `${ctx.method} ${ctx.host}${ctx.path}`;
  if (status === 401) {
    return new KilnError("REGISTRY_UNAUTHORIZED", `no credentials for ${ctx.host} (${where}: ${regText || "401 Unauthorized"})`, {
      hint: `run \`kiln login ${ctx.host}\``,
    });
  }
  if (status === 403) {
    return new KilnError("REGISTRY_DENIED", `access denied by ${ctx.host}: ${regText || "403 Forbidden"} (${where})`, {
      hint: `check that your account for ${ctx.host} may access this repository (kiln login ${ctx.host})`,
    });
  }
  if (status === 404 && (!first || /UNKNOWN$/.test(first.code ?? ""))) {
    const what = ctx.what ?? "resource";
    return new KilnError(first?.code === "BLOB_UNKNOWN" ? "BLOB_UNKNOWN" : "REGISTRY_NOT_FOUND", `${what} not found on ${ctx.host}: ${regText || "404 Not Found"} (${where})`, {
      hint: "check the repository name and tag",
    });
  }
  if (first?.code) {
    return new KilnError(`REGISTRY_${first.code}`, `${ctx.host} rejected ${where}: ${regText}`);
  }
  const snippet = body.trim().slice(0, 200);
  return new KilnError("REGISTRY_HTTP_ERROR", `${ctx.host} answered ${status} to ${where}${snippet ? `: ${snippet}` : ""}`);
}

function parseErrors(body: string): NonNullable<RegistryErrorBody["errors"]> {
  try {
    const j = JSON.parse(body) as RegistryErrorBody;
    return Array.isArray(j.errors) ? j.errors : [];
  } catch {
    return [];
  }
}

function detailText(d: unknown): string {
  return typeof d === "string" ? d : JSON.stringify(d);
}

/** True for failures worth another attempt: 5xx, 429 and transport errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** A transient HTTP failure the retry loop may repeat; carries Retry-After. */
export class TransientHttpError extends KilnError {
  readonly retryable = true;
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    readonly final: KilnError,
  ) {
    super(final.code, final.message, final.hint ? { hint: final.hint } : {});
  }
}

/** The user's Ctrl-C or SIGTERM, as every command reports it. */
export function interrupted(signal?: AbortSignal): KilnError {
  const reason = signal?.reason as { code?: unknown } | undefined;
  if (reason instanceof KilnError && reason.code === "INTERRUPTED") return reason;
  return new KilnError("INTERRUPTED", "interrupted");
}

const NETWORK_KINDS: readonly { readonly code: string; readonly says: string; readonly match: RegExp }[] = [
  { code: "REGISTRY_UNREACHABLE", says: "cannot connect", match: /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/ },
  { code: "REGISTRY_TIMEOUT", says: "no answer in time", match: /^(CONNECT_TIMEOUT|HEADERS_TIMEOUT|BODY_TIMEOUT|ETIMEDOUT)$/ },
  { code: "REGISTRY_CONNECTION_LOST", says: "connection lost", match: /^(ECONNRESET|EPIPE|ERR_STREAM_PREMATURE_CLOSE)$/ },
];

/** The network error code in `e` or its causes (wrapped errors keep theirs in `cause`). */
function networkCode(e: unknown): string | undefined {
  for (let c = e as { code?: unknown; cause?: unknown } | undefined, i = 0; c && i < 5; c = c.cause as typeof c, i++) {
    if (typeof c.code === "string" && NETWORK_KINDS.some((k) => k.match.test(c!.code as string))) return c.code;
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
  const kind = code ? NETWORK_KINDS.find((k) => k.match.test(code)) : undefined;
  if (!kind) return e;
  const detail = (e as Error).message && !(e as Error).message.includes(code!) ? `${code}: ${(e as Error).message}` : (e as Error).message || code;
  return new KilnError(kind.code, `${what}: ${kind.says} (${detail})${tried}`, {
    cause: e,
    hint: kind.code === "REGISTRY_TIMEOUT" ? "the registry is up but does not answer; raise KILN_REGISTRY_TIMEOUT if it is only slow" : "check the registry address and that it is running",
  });
}
