import { KilnError, type KilnErrorCode } from "../util/errors.js";
import { expandWord } from "./expand.js";
import { checkFlags, type FlagSpec, type FlagValues } from "./flags.js";
import { withoutHeredocMarkers } from "./heredoc.js";
import { parseRunFlags } from "./run-flags.js";
import type {
  AddInstruction,
  ArgDeclaration,
  CommandForm,
  CopyInstruction,
  FromInstruction,
  Heredoc,
  Instruction,
  KeyValue,
  Location,
} from "./types.js";
import { parseJsonArray, parseWords, splitBlanks, type RawFlag } from "./words.js";

// One builder per keyword: argument text (flags already split off) in,
// typed instruction out. Nothing here expands variables.

export interface RawInstruction {
  keyword: string; // upper-cased
  flags: RawFlag[];
  /** Arguments after the flags, trimmed. */
  rest: string;
  location: Location;
  original: string;
  escape: string;
  heredocs: Heredoc[];
}

type Built = Instruction | FromInstruction;
type Builder = (raw: RawInstruction) => Built;

/** Builds a nested trigger for ONBUILD; supplied by the parser to avoid a cycle. */
export type TriggerParser = (text: string, location: Location, heredocs: Heredoc[]) => Instruction;

function err(raw: RawInstruction, code: KilnErrorCode, message: string, hint?: string): KilnError {
  return new KilnError(code, message, { location: raw.location, ...(hint ? { hint } : {}) });
}

function flagsOf(raw: RawInstruction, spec: FlagSpec): FlagValues {
  return checkFlags(raw.keyword, raw.flags, spec, raw.location);
}

function base(raw: RawInstruction): { location: Location; original: string } {
  return { location: raw.location, original: raw.original };
}

function requireArgs(raw: RawInstruction, what = "an argument"): void {
  if (raw.rest === "" && raw.heredocs.length === 0) {
    throw err(raw, "DOCKERFILE_ARGS", `${raw.keyword} needs ${what}`);
  }
}

/** The JSON array form, if the text is one; a JSON array of non-strings is an error. */
function jsonForm(raw: RawInstruction): string[] | undefined {
  const r = parseJsonArray(raw.rest);
  if (r === "not-strings") {
    throw err(raw, "DOCKERFILE_JSON", `${raw.keyword} JSON form must be an array of strings`, 'quote every element, e.g. ["sleep", "10"]');
  }
  return r;
}

/** Exec form when the text is a JSON string array, shell form otherwise (as BuildKit). */
function commandForm(raw: RawInstruction): CommandForm {
  const json = jsonForm(raw);
  return json !== undefined ? { form: "exec", args: json } : { form: "shell", command: raw.rest };
}

/** `K=V K2=V2`, or the legacy `K some value`. */
function nameValuePairs(raw: RawInstruction): KeyValue[] {
  const words = parseWords(raw.rest, raw.escape);
  const first = words[0];
  if (first === undefined) throw err(raw, "DOCKERFILE_ARGS", `${raw.keyword} needs at least one argument`);
  if (!first.includes("=")) {
    // Legacy `ENV name some value`: the value is the rest of the line as written.
    const m = /^([^\t\v\f\r ]+)[\t\v\f\r ]+([\s\S]*)$/.exec(raw.rest);
    if (!m) {
      throw err(raw, "DOCKERFILE_ARGS", `${raw.keyword} must have two arguments`, `write ${raw.keyword} ${first}=VALUE`);
    }
    return [{ key: m[1] as string, value: m[2] as string }];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw err(raw, "DOCKERFILE_ARGS", `syntax error - can't find = in "${word}"`, `${raw.keyword} takes name=value pairs`);
    }
    if (eq === 0) throw err(raw, "DOCKERFILE_ARGS", `${raw.keyword} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function listOrJson(raw: RawInstruction): string[] {
  return jsonForm(raw) ?? splitBlanks(raw.rest);
}

function fileCopy(raw: RawInstruction, spec: FlagSpec): { f: FlagValues; common: Omit<CopyInstruction, "kind" | "location" | "original" | "from"> } {
  const f = flagsOf(raw, spec);
  // Heredoc markers stand in for sources; their words are not file names.
  const all = jsonForm(raw) ?? splitBlanks(raw.heredocs.length > 0 ? withoutHeredocMarkers(raw.rest, raw.escape) : raw.rest);
  const dest = all.at(-1);
  const sources = all.slice(0, -1);
  if (dest === undefined || (sources.length === 0 && raw.heredocs.length === 0)) {
    throw err(raw, "DOCKERFILE_ARGS", `${raw.keyword} needs at least a source and a destination`, `write ${raw.keyword} SRC... DEST`);
  }
  const common: Omit<CopyInstruction, "kind" | "location" | "original" | "from"> = { sources, dest };
  const chown = f.strings.get("chown");
  const chmod = f.strings.get("chmod");
  const link = f.bools.get("link");
  const exclude = f.lists.get("exclude");
  const parents = f.bools.get("parents");
  if (chown !== undefined) common.chown = chown;
  if (chmod !== undefined) common.chmod = chmod;
  if (link !== undefined) common.link = link;
  if (exclude !== undefined) common.exclude = exclude;
  if (parents !== undefined) common.parents = parents;
  if (raw.heredocs.length > 0) common.heredocs = raw.heredocs;
  return { f, common };
}

const NO_FLAGS: FlagSpec = {};

const builders: Record<string, Builder> = {
  FROM(raw) {
    const f = flagsOf(raw, { platform: "string" });
    const words = splitBlanks(raw.rest);
    const [image, as, name] = words;
    if (image === undefined || (words.length !== 1 && (words.length !== 3 || as?.toLowerCase() !== "as"))) {
      throw err(raw, "DOCKERFILE_ARGS", "FROM takes an image and an optional AS name", "write FROM IMAGE [AS NAME]");
    }
    const out: FromInstruction = { kind: "from", ...base(raw), image };
    const platform = f.strings.get("platform");
    if (platform !== undefined) out.platform = platform;
    if (name !== undefined) {
      if (!/^[a-z][a-z0-9_.-]*$/i.test(name)) {
        throw err(raw, "DOCKERFILE_ARGS", `invalid stage name "${name}"`, "stage names start with a letter and contain letters, digits, '-', '_' and '.'");
      }
      out.stageName = name.toLowerCase();
    }
    return out;
  },
  RUN(raw) {
    const f = flagsOf(raw, { mount: "strings", network: "string", security: "string" });
    requireArgs(raw, "a command");
    const network = f.strings.get("network");
    const security = f.strings.get("security");
    const flags = parseRunFlags(
      { mount: f.lists.get("mount") ?? [], ...(network !== undefined ? { network } : {}), ...(security !== undefined ? { security } : {}) },
      raw.location,
    );
    const form = commandForm(raw);
    return { kind: "run", ...base(raw), ...form, flags, ...(raw.heredocs.length > 0 && form.form === "shell" ? { heredocs: raw.heredocs } : {}) };
  },
  COPY(raw) {
    const { f, common } = fileCopy(raw, { from: "string", chown: "string", chmod: "string", link: "bool", exclude: "strings", parents: "bool" });
    const out: CopyInstruction = { kind: "copy", ...base(raw), ...common };
    const from = f.strings.get("from");
    if (from !== undefined) {
      // The stage graph is known before any variable has a value (BuildKit's toCommand).
      if (expandWord(from, () => undefined) !== from) {
        throw err(raw, "DOCKERFILE_FLAG", "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround", `e.g. ARG IMG=... before the first FROM, then FROM $IMG AS src and COPY --from=src`);
      }
      out.from = from;
    }
    return out;
  },
  ADD(raw) {
    const { f, common } = fileCopy(raw, {
      chown: "string",
      chmod: "string",
      link: "bool",
      exclude: "strings",
      parents: "bool",
      checksum: "string",
      "keep-git-dir": "bool",
      unpack: "bool",
    });
    const out: AddInstruction = { kind: "add", ...base(raw), ...common };
    const checksum = f.strings.get("checksum");
    const keep = f.bools.get("keep-git-dir");
    if (checksum !== undefined) out.checksum = checksum;
    if (keep !== undefined) out.keepGitDir = keep;
    const unpack = f.bools.get("unpack");
    if (unpack !== undefined) out.unpack = unpack;
    return out;
  },
  ENV(raw) {
    flagsOf(raw, NO_FLAGS);
    return { kind: "env", ...base(raw), pairs: nameValuePairs(raw) };
  },
  LABEL(raw) {
    flagsOf(raw, NO_FLAGS);
    return { kind: "label", ...base(raw), pairs: nameValuePairs(raw) };
  },
  ARG(raw) {
    flagsOf(raw, NO_FLAGS);
    const words = parseWords(raw.rest, raw.escape);
    if (words.length === 0) throw err(raw, "DOCKERFILE_ARGS", "ARG needs at least one argument", "write ARG NAME[=DEFAULT]");
    const args = words.map((word): ArgDeclaration => {
      const eq = word.indexOf("=");
      if (eq === 0) throw err(raw, "DOCKERFILE_ARGS", "ARG names can not be blank");
      return eq < 0 ? { name: word } : { name: word.slice(0, eq), default: word.slice(eq + 1) };
    });
    return { kind: "arg", ...base(raw), args };
  },
  WORKDIR(raw) {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "a path");
    return { kind: "workdir", ...base(raw), path: raw.rest };
  },
  USER(raw) {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "a user");
    return { kind: "user", ...base(raw), user: raw.rest };
  },
  EXPOSE(raw) {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "at least one port");
    return { kind: "expose", ...base(raw), ports: splitBlanks(raw.rest) };
  },
  VOLUME(raw) {
    flagsOf(raw, NO_FLAGS);
    const paths = listOrJson(raw);
    if (paths.length === 0 || paths.some((p) => p.trim() === "")) {
      throw err(raw, "DOCKERFILE_ARGS", "VOLUME needs at least one non-empty path");
    }
    return { kind: "volume", ...base(raw), paths };
  },
  ENTRYPOINT(raw) {
    flagsOf(raw, NO_FLAGS);
    return { kind: "entrypoint", ...base(raw), ...commandForm(raw) };
  },
  CMD(raw) {
    flagsOf(raw, NO_FLAGS);
    return { kind: "cmd", ...base(raw), ...commandForm(raw) };
  },
  SHELL(raw) {
    flagsOf(raw, NO_FLAGS);
    const shell = jsonForm(raw);
    if (shell === undefined || shell.length === 0) {
      throw err(raw, "DOCKERFILE_JSON", "SHELL must be a JSON array of strings", 'write SHELL ["/bin/sh", "-c"]');
    }
    return { kind: "shell", ...base(raw), shell };
  },
  STOPSIGNAL(raw) {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "a signal");
    return { kind: "stopsignal", ...base(raw), signal: raw.rest };
  },
  MAINTAINER(raw) {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "a name");
    return { kind: "maintainer", ...base(raw), maintainer: raw.rest };
  },
  HEALTHCHECK(raw) {
    const f = flagsOf(raw, { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" });
    const [first = "", ...more] = splitBlanks(raw.rest);
    const word = first.toUpperCase();
    let test: "none" | CommandForm;
    if (word === "NONE") {
      if (more.length > 0 || raw.flags.length > 0) throw err(raw, "DOCKERFILE_ARGS", "HEALTHCHECK NONE takes no other arguments");
      test = "none";
    } else if (word === "CMD") {
      const cmdText = raw.rest.slice(first.length).trim();
      if (cmdText === "") throw err(raw, "DOCKERFILE_ARGS", "HEALTHCHECK CMD needs a command");
      test = commandForm({ ...raw, rest: cmdText });
    } else {
      throw err(raw, "DOCKERFILE_ARGS", "HEALTHCHECK takes CMD or NONE", "write HEALTHCHECK [OPTIONS] CMD command");
    }
    const out: Instruction = { kind: "healthcheck", ...base(raw), test };
    for (const [flag, key] of [
      ["interval", "interval"],
      ["timeout", "timeout"],
      ["start-period", "startPeriod"],
      ["start-interval", "startInterval"],
    ] as const) {
      const v = f.strings.get(flag);
      if (v !== undefined) {
        if (!/^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$/.test(v)) throw err(raw, "DOCKERFILE_FLAG", `invalid duration "${v}" for --${flag}`, 'use Go duration syntax, e.g. "30s" or "1m30s"');
        out[key] = v;
      }
    }
    const retries = f.strings.get("retries");
    if (retries !== undefined) {
      if (!/^[0-9]+$/.test(retries)) throw err(raw, "DOCKERFILE_FLAG", `invalid --retries value "${retries}"`, "give a whole number");
      out.retries = Number(retries);
    }
    return out;
  },
};

export const KEYWORDS: readonly string[] = [...Object.keys(builders), "ONBUILD"];

export function buildInstruction(raw: RawInstruction, parseTrigger: TriggerParser): Built {
  if (raw.keyword === "ONBUILD") {
    flagsOf(raw, NO_FLAGS);
    requireArgs(raw, "an instruction to trigger");
    const triggerKeyword = (raw.rest.split(/\s/, 1)[0] ?? "").toUpperCase();
    if (triggerKeyword === "ONBUILD" || triggerKeyword === "FROM" || triggerKeyword === "MAINTAINER") {
      throw err(raw, "DOCKERFILE_ARGS", `${triggerKeyword} isn't allowed as an ONBUILD trigger`);
    }
    // The stored trigger keeps its heredoc bodies (as BuildKit's), so the
    // image that inherits it can parse it back whole.
    const expression = raw.rest + raw.heredocs.map((h) => `\n${h.content}${h.name}`).join("");
    return { kind: "onbuild", ...base(raw), expression, trigger: parseTrigger(raw.rest, raw.location, raw.heredocs) };
  }
  const builder = builders[raw.keyword];
  if (builder === undefined) throw err(raw, "DOCKERFILE_UNKNOWN_INSTRUCTION", `unknown instruction: ${raw.keyword}`);
  return builder(raw);
}
