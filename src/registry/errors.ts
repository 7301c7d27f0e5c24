// Registry failures as KilnErrors with stable codes. The registry's own
// error JSON ({"errors":[{"code","message","detail"}]}) is shown verbatim,
// because its message ("blob unknown to registry") is what a user searches.
import { isKilnErrorCode, KilnError } from "../util/errors.js";

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
  const code = `REGISTRY_${first?.code ?? ""}`;
  // The distribution spec's codes (BLOB_UNKNOWN, MANIFEST_INVALID, ...) as
  // REGISTRY_<code>; a code outside the spec keeps its text in the message.
  if (first?.code) {
    return new KilnError(isKilnErrorCode(code) ? code : "REGISTRY_HTTP_ERROR", `${ctx.host} rejected ${where}: ${regText}`);
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
