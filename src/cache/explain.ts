// Why a step missed: its inputs compared with the previous run's record of
// the same Dockerfile step. Says the first thing that differs, in the
// order a user would look for it.
import type { StepInputs, StepRecord } from "./records.js";

const MAX_FILES = 5;

export function explainMiss(label: string, prev: StepRecord | undefined, now: StepInputs): string {
  if (!prev) return `${label}: no previous build of this step`;
  const p = prev.inputs;
  if (p.instruction !== now.instruction) return `${label}: instruction changed (was: ${p.instruction})`;
  if (p.platform !== now.platform) return `${label}: platform changed ${p.platform} -> ${now.platform}`;
  if ((p.epoch ?? "") !== (now.epoch ?? "")) return `${label}: SOURCE_DATE_EPOCH changed ${show(p.epoch || undefined)} -> ${show(now.epoch || undefined)}`;
  for (const name of new Set([...Object.keys(p.args), ...Object.keys(now.args)])) {
    if (p.args[name] !== now.args[name]) return `${label}: ARG ${name} changed ${show(p.args[name])} -> ${show(now.args[name])}`;
  }
  for (const name of new Set([...Object.keys(p.config), ...Object.keys(now.config)])) {
    const a = JSON.stringify(p.config[name]);
    const b = JSON.stringify(now.config[name]);
    if (a !== b) return `${label}: ${name} changed ${a ?? "(unset)"} -> ${b ?? "(unset)"}`;
  }
  if (p.files || now.files) {
    const before = p.files ?? {};
    const after = now.files ?? {};
    const changed: string[] = [];
    for (const f of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[f] === after[f]) continue;
      changed.push(`${f} ${before[f] === undefined ? "added" : after[f] === undefined ? "removed" : "changed"}`);
    }
    if (changed.length > 0) {
      const more = changed.length > MAX_FILES ? ` and ${changed.length - MAX_FILES} more` : "";
      return `${label}: ${changed.slice(0, MAX_FILES).join(", ")}${more}`;
    }
  }
  if ((p.from ?? "") !== (now.from ?? "")) return `${label}: --from=${(now.from ?? "").split(":")[1] ?? ""} changed`;
  if (p.base !== now.base) return `${label}: base image digest changed ${short(p.base)} -> ${short(now.base)}`;
  if (p.chainId !== now.chainId) return `${label}: an earlier step changed the filesystem`;
  return `${label}: cached layer is no longer in the store`;
}

function show(v: string | undefined): string {
  return v === undefined ? "(unset)" : v;
}

/** sha256:abc… -> abc…(12); "stage:sha256:abc…" -> "stage abc…(12)". */
function short(d: string): string {
  if (!d) return "(none)";
  const m = /^(?:(\w+):)?sha256:([0-9a-f]{12})/.exec(d);
  return m ? `${m[1] ? `${m[1]} ` : ""}${m[2]}` : d;
}
