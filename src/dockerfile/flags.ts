import { KilnError } from "../util/errors.js";
import { didYouMean } from "./suggest.js";
import type { Location } from "./types.js";
import type { RawFlag } from "./words.js";

// Validates an instruction's `--flags` against what that instruction
// accepts, the way BuildKit's BFlags does: unknown names, a missing value,
// or a repeated single-valued flag are errors.

export type FlagKind = "string" | "strings" | "bool";
export type FlagSpec = Readonly<Record<string, FlagKind>>;

export interface FlagValues {
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  bools: Map<string, boolean>;
}

export function checkFlags(keyword: string, raw: readonly RawFlag[], spec: FlagSpec, location: Location): FlagValues {
  const out: FlagValues = { strings: new Map(), lists: new Map(), bools: new Map() };
  for (const f of raw) {
    const kind = spec[f.name];
    if (kind === undefined) {
      const known = Object.keys(spec);
      throw new KilnError("DOCKERFILE_FLAG", `unknown flag: --${f.name}${didYouMean(f.name, known)}`, {
        location,
        hint: known.length > 0 ? `${keyword} accepts ${known.map((k) => `--${k}`).join(", ")}` : `${keyword} takes no flags`,
      });
    }
    if (kind === "bool") {
      if (f.value !== undefined && f.value !== "true" && f.value !== "false") {
        throw new KilnError("DOCKERFILE_FLAG", `expecting boolean value for flag --${f.name}, not "${f.value}"`, { location });
      }
      out.bools.set(f.name, f.value !== "false");
      continue;
    }
    if (f.value === undefined) {
      throw new KilnError("DOCKERFILE_FLAG", `missing a value on flag --${f.name}`, {
        location,
        hint: `write --${f.name}=VALUE`,
      });
    }
    if (kind === "strings") {
      const list = out.lists.get(f.name) ?? [];
      list.push(f.value);
      out.lists.set(f.name, list);
    } else {
      if (out.strings.has(f.name)) {
        throw new KilnError("DOCKERFILE_FLAG", `duplicate flag specified: --${f.name}`, { location });
      }
      out.strings.set(f.name, f.value);
    }
  }
  return out;
}
