// HEALTHCHECK: replaces the image's check. Durations are Go durations in
// the Dockerfile and nanoseconds in the config, as docker stores them;
// NONE disables an inherited check with Test ["NONE"].
import { expandWord } from "../dockerfile/expand.js";
import type { HealthcheckInstruction } from "../dockerfile/types.js";
import type { HealthConfig } from "../oci/config.js";
import { KilnError } from "../util/errors.js";
import { withConfig, type ImageState } from "../image/image-state.js";
import { historyFor, locationOf, varsOf, type StepContext } from "./step-context.js";

export function applyHealthcheck(ctx: StepContext, state: ImageState, instr: HealthcheckInstruction): ImageState {
  const history = historyFor(ctx, instr.original);
  if (instr.test === "none") return withConfig(state, { Healthcheck: { Test: ["NONE"] } }, history);
  const test = instr.test.form === "exec" ? ["CMD", ...instr.test.args] : ["CMD-SHELL", instr.test.command];
  const vars = varsOf(ctx, state);
  const hc: { -readonly [K in keyof HealthConfig]: HealthConfig[K] } = { Test: test };
  const durations = [
    ["interval", "Interval"],
    ["timeout", "Timeout"],
    ["startPeriod", "StartPeriod"],
    ["startInterval", "StartInterval"],
  ] as const;
  for (const [from, to] of durations) {
    const raw = instr[from];
    if (raw === undefined) continue;
    const ns = parseGoDuration(expandWord(raw, vars));
    const flag = from.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (ns === undefined) throw new KilnError("INVALID_DURATION", `HEALTHCHECK --${flag}=${raw}: not a duration`, { location: locationOf(instr.location), hint: 'e.g. "30s" or "1m30s"' });
    // docker: 0 means "use the default"; anything else must be at least 1ms.
    if (ns !== 0 && ns < 1_000_000) throw new KilnError("INVALID_DURATION", `HEALTHCHECK --${flag} cannot be less than 1ms`, { location: locationOf(instr.location) });
    if (ns !== 0) hc[to] = ns;
  }
  if (instr.retries !== undefined && instr.retries !== 0) hc.Retries = instr.retries;
  return withConfig(state, { Healthcheck: hc }, history);
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (non-negative), in nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const re = /([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[1] === "" || m[1] === ".") return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    at = re.lastIndex;
  }
  return at === s.length && at > 0 ? Math.round(total) : undefined;
}
