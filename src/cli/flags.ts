// Command-line flags the way docker's CLI (cobra/pflag) reads them, so that
// command lines written for `docker build` read the same: `--flag value`,
// `--flag=value`, `-t value`, `-tvalue`, `-qt value`, boolean `--flag=false`,
// `--` ends the flags, `-` alone is an argument (stdin). A flag given twice
// keeps its last value unless it is repeatable. Errors say what docker says
// ("unknown flag: --x") plus the nearest flag and where the help is.
import { suggest } from "../dockerfile/suggest.js";
import { KilnError } from "../util/errors.js";

export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
}

type ValueOf<F extends FlagSpec> = F["type"] extends "boolean" ? boolean : F["multiple"] extends true ? string[] : string;
export type FlagValues<S extends Record<string, FlagSpec>> = { [K in keyof S]?: ValueOf<S[K]> };

export interface FlagsInput<S extends Record<string, FlagSpec>> {
  readonly args: readonly string[];
  readonly options: S;
  readonly allowPositionals?: boolean;
  /** The command as typed (e.g. "build", "image prune"), for the help hint. */
  readonly command?: string;
}

// strconv.ParseBool, which pflag uses for `--flag=value`.
const TRUE = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const FALSE = new Set(["0", "f", "F", "false", "FALSE", "False"]);

export function parseFlags<const S extends Record<string, FlagSpec>>(input: FlagsInput<S>): { values: FlagValues<S>; positionals: string[] } {
  const { args, options } = input;
  const values: Record<string, string | string[] | boolean> = {};
  const positionals: string[] = [];
  const help = input.command ? `See 'kiln ${input.command} --help'.` : "See 'kiln --help'.";
  const byShort = new Map(Object.entries(options).flatMap(([name, spec]) => (spec.short ? [[spec.short, name] as const] : [])));
  const set = (name: string, value: string | boolean) => {
    const spec = options[name]!;
    if (spec.type === "boolean") values[name] = value;
    else if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value as string];
    else values[name] = value as string;
  };
  const boolValue = (flag: string, text: string): boolean => {
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    throw new KilnError("USAGE", `invalid argument "${text}" for "${flag}" flag: want true or false`, { hint: help });
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = options[name];
      if (!spec) throw unknownFlag(`--${name}`, Object.keys(options).map((n) => `--${n}`), help);
      if (spec.type === "boolean") set(name, eq < 0 ? true : boolValue(`--${name}`, a.slice(eq + 1)));
      else if (eq >= 0) set(name, a.slice(eq + 1));
      else if (i + 1 < args.length) set(name, args[++i]!);
      else throw new KilnError("USAGE", `flag needs an argument: --${name}`, { hint: help });
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // A cluster of short flags: booleans, then at most one that takes a value
      // (the rest of the word, after an optional "=", or the next word).
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const name = byShort.get(c);
        if (name === undefined) throw new KilnError("USAGE", `unknown shorthand flag: '${c}' in ${a}`, { hint: help });
        const spec = options[name]!;
        if (spec.type === "boolean") {
          if (a[j + 1] === "=") {
            set(name, boolValue(`-${c}`, a.slice(j + 2)));
            break;
          }
          set(name, true);
          continue;
        }
        const rest = a.slice(j + 1).replace(/^=/, "");
        if (rest !== "" || a[j + 1] === "=") set(name, rest);
        else if (i + 1 < args.length) set(name, args[++i]!);
        else throw new KilnError("USAGE", `flag needs an argument: '${c}' in -${c}`, { hint: help });
        break;
      }
      continue;
    }
    positionals.push(a);
  }
  if (!input.allowPositionals && positionals.length > 0) {
    throw new KilnError("USAGE", `unexpected argument "${positionals[0]}"`, { hint: help });
  }
  return { values: values as FlagValues<S>, positionals };
}

function unknownFlag(flag: string, known: readonly string[], help: string): KilnError {
  const near = suggest(flag, known);
  return new KilnError("USAGE", `unknown flag: ${flag}`, { hint: near ? `did you mean ${near}? ${help}` : help });
}
