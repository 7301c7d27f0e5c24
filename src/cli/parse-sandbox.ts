// `kiln build` flags that confine and limit RUN, in docker's syntax:
// --ulimit nofile=1024:2048, --shm-size 128m, --pids-limit 200,
// --security-opt seccomp=unconfined, --allow security.insecure.
import { ULIMIT_NAMES, type ProcessLimits, type SandboxOptions, type Ulimit } from "../exec/sandbox.js";
import { KilnError } from "../util/errors.js";

export interface SandboxFlags {
  readonly ulimit?: readonly string[];
  readonly "shm-size"?: string;
  readonly "pids-limit"?: string;
  readonly "security-opt"?: readonly string[];
  readonly allow?: readonly string[];
}

export function parseSandboxFlags(f: SandboxFlags): SandboxOptions | undefined {
  const ulimits = new Map<string, Ulimit>();
  for (const u of f.ulimit ?? []) {
    const parsed = parseUlimit(u);
    ulimits.set(parsed.name, parsed); // the last one for a name wins, as docker's
  }
  const pids = f["pids-limit"] !== undefined ? parsePidsLimit(f["pids-limit"]) : undefined;
  const limits: ProcessLimits = {
    // Sorted: the same limits in another order are the same step (cache key).
    ...(ulimits.size ? { ulimits: [...ulimits.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) } : {}),
    ...(f["shm-size"] !== undefined ? { shmSizeBytes: parseShmSize(f["shm-size"]) } : {}),
    ...(pids !== undefined ? { pidsLimit: pids } : {}),
  };
  let seccomp: boolean | undefined;
  for (const o of f["security-opt"] ?? []) {
    if (!/^seccomp[=:]unconfined$/.test(o)) {
      throw new KilnError("USAGE", `--security-opt ${o}: kiln supports only seccomp=unconfined`, { hint: "RUN uses Docker's default seccomp profile; --security-opt seccomp=unconfined turns it off" });
    }
    seccomp = false;
  }
  let allowInsecure = false;
  for (const a of (f.allow ?? []).flatMap((v) => v.split(","))) {
    if (a === "security.insecure") allowInsecure = true;
    // RUN --network=host needs no entitlement in kiln; accepted for buildx's command lines.
    else if (a !== "network.host") throw new KilnError("USAGE", `--allow ${a}: expected security.insecure or network.host`);
  }
  if (Object.keys(limits).length === 0 && seccomp === undefined && !allowInsecure) return undefined;
  return { ...(Object.keys(limits).length ? { limits } : {}), ...(seccomp !== undefined ? { seccomp } : {}), ...(allowInsecure ? { allowInsecure } : {}) };
}

/** docker's `name=soft[:hard]`; -1 is unlimited; hard defaults to soft. */
export function parseUlimit(v: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new KilnError("USAGE", `--ulimit ${v}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const name = m[1]!;
  if (!(name in ULIMIT_NAMES)) throw new KilnError("USAGE", `--ulimit ${v}: unknown limit "${name}"`, { hint: `one of ${Object.keys(ULIMIT_NAMES).join(", ")}` });
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  for (const n of [soft, hard]) {
    if (n < -1 || !Number.isSafeInteger(n)) throw new KilnError("USAGE", `--ulimit ${v}: limits are whole numbers, or -1 for unlimited`);
  }
  if (hard !== -1 && (soft === -1 || soft > hard)) throw new KilnError("USAGE", `--ulimit ${v}: the soft limit must not exceed the hard limit`);
  return { name, soft, hard };
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker's RAM sizes: 65536, 512k, 128m, 1g (binary units; an optional b / ib). */
export function parseShmSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(v);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw new KilnError("USAGE", `--shm-size ${v}: expected a size greater than 0, e.g. 128m or 1g`);
  return bytes;
}

/** A positive count; 0 and -1 mean no limit (docker's default). */
function parsePidsLimit(v: string): number | undefined {
  if (!/^-?\d+$/.test(v) || Number(v) < -1) throw new KilnError("USAGE", `--pids-limit ${v}: expected a whole number (0 or -1: no limit)`);
  return Number(v) > 0 ? Number(v) : undefined;
}
