// Registry timeouts and the retry deadline, from the environment. Its own
// module so that `kiln build` reads them without loading the registry client.
import type { ClientOptions } from "../registry/client.js";
import { DEFAULT_RETRY } from "../registry/retry.js";
import { KilnError } from "../util/errors.js";
import { parseDuration } from "./format.js";

/**
 * The registry timeouts from the environment (durations: 30s, 500ms, 2m):
 * KILN_REGISTRY_TIMEOUT, how long to wait to connect and then for a
 * response's headers (default 10 s and 30 s); KILN_REGISTRY_BODY_TIMEOUT,
 * the longest silence inside a body (60 s); KILN_REGISTRY_DEADLINE, after
 * which no failed request is tried again (90 s).
 */
export function registryTimeouts(env: NodeJS.ProcessEnv): Pick<ClientOptions, "timeouts" | "retry"> {
  const ms = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    try {
      return /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : parseDuration(v);
    } catch {
      throw new KilnError("USAGE", `${name}="${v}" is not a duration`, { hint: "e.g. 30s, 500ms, 2m" });
    }
  };
  const response = ms("KILN_REGISTRY_TIMEOUT");
  const body = ms("KILN_REGISTRY_BODY_TIMEOUT");
  const deadline = ms("KILN_REGISTRY_DEADLINE");
  const timeouts = { ...(response !== undefined ? { connectMs: response, headersMs: response } : {}), ...(body !== undefined ? { bodyMs: body } : {}) };
  return {
    ...(Object.keys(timeouts).length ? { timeouts } : {}),
    ...(deadline !== undefined ? { retry: { ...DEFAULT_RETRY, deadlineMs: deadline } } : {}),
  };
}
