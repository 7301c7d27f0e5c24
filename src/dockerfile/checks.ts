// Build checks (lint rules) with BuildKit's names and messages, so a team's
// `# check=skip=...` lines and CI greps carry over. Pure: a parsed
// Dockerfile and its text in, warnings out; nothing is built or read.
import { KilnError } from "../util/errors.js";
import { expandWordWithMatches } from "./expand.js";
import type { Dockerfile, Instruction, Location } from "./types.js";

export interface Warning {
  /** BuildKit's rule name, e.g. "JSONArgsRecommended". */
  readonly rule: string;
  readonly message: string;
  readonly location: Location;
}

export interface CheckConfig {
  /** Rules not reported (`# check=skip=A,B`; "all" skips every rule). */
  readonly skip: ReadonlySet<string>;
  /** `# check=error=true`: any warning fails the build. */
  readonly error: boolean;
}

export const RULES = [
  "ConsistentInstructionCasing",
  "DuplicateStageName",
  "FromAsCasing",
  "JSONArgsRecommended",
  "MaintainerDeprecated",
  "MultipleInstructionsDisallowed",
  "StageNameCasing",
  "UndefinedVar",
  "WorkdirRelativePath",
] as const;

// Args BuildKit defines in every stage without an ARG line.
const PREDEFINED = new Set([
  "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
  "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
]);

/** Parses the `# check=` directive value: `skip=A,B;error=true`. */
export function parseCheckDirective(value: string | undefined): CheckConfig {
  const skip = new Set<string>();
  let error = false;
  for (const part of (value ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (key === "skip") {
      for (const r of v.split(",")) if (r.trim()) skip.add(r.trim());
    } else if (key === "error") {
      error = v.toLowerCase() === "true";
    }
  }
  return { skip, error };
}

export function checkDockerfile(df: Dockerfile, text: string): Warning[] {
  const config = parseCheckDirective(df.directives.check);
  if (config.skip.has("all")) return [];
  const out: Warning[] = [];
  const warn = (rule: string, message: string, location: Location) => {
    if (!config.skip.has(rule)) out.push({ rule, message, location });
  };
  void text; // kept in the signature: rules that need raw lines (casing) read location.text

  // ConsistentInstructionCasing: each keyword should match the file's majority.
  const all: { written: string; location: Location }[] = [];
  for (const a of df.metaArgs) all.push({ written: keywordOf(a.location, a.original), location: a.location });
  for (const s of df.stages) {
    all.push({ written: keywordOf(s.from.location, s.from.original), location: s.from.location });
    for (const i of s.instructions) all.push({ written: keywordOf(i.location, i.original), location: i.location });
  }
  const upper = all.filter((k) => k.written === k.written.toUpperCase()).length;
  const lower = all.filter((k) => k.written === k.written.toLowerCase()).length;
  const majorityUpper = upper >= lower;
  for (const k of all) {
    const ok = majorityUpper ? k.written === k.written.toUpperCase() : k.written === k.written.toLowerCase();
    if (!ok) {
      warn("ConsistentInstructionCasing", `Command '${k.written}' should match the case of the command majority (${majorityUpper ? "uppercase" : "lowercase"})`, k.location);
    }
  }

  const metaArgNames = new Set(df.metaArgs.flatMap((a) => a.args.map((x) => x.name)));
  const seenStages = new Map<string, number>();
  for (const stage of df.stages) {
    const from = stage.from;
    // FROM line words as written: FROM [--flags] IMAGE [AS NAME]
    const words = from.original.split(/\s+/).filter((w) => w !== "" && !w.startsWith("--"));
    const fromWord = words[0] ?? "FROM";
    const asWord = words.length >= 4 ? words[2] : undefined;
    const nameWord = words.length >= 4 ? words[3] : undefined;
    if (asWord !== undefined) {
      const fromUpper = fromWord === fromWord.toUpperCase();
      const asUpper = asWord === asWord.toUpperCase();
      if (fromUpper !== asUpper) warn("FromAsCasing", `'${asWord}' and '${fromWord}' keywords' casing do not match`, from.location);
    }
    if (nameWord !== undefined && nameWord !== nameWord.toLowerCase()) {
      warn("StageNameCasing", `Stage name '${nameWord}' should be lowercase`, from.location);
    }
    if (stage.name !== undefined) {
      if (seenStages.has(stage.name)) warn("DuplicateStageName", `Duplicate stage name "${stage.name}", stage names should be unique`, from.location);
      else seenStages.set(stage.name, stage.index);
    }
    for (const name of unmatchedIn(from.image, (n) => metaArgNames.has(n) || PREDEFINED.has(n))) {
      warn("UndefinedVar", `Usage of undefined variable '$${name}'`, from.location);
    }

    const seenOnce = new Map<string, Location>();
    const defined = new Set<string>();
    for (const instr of stage.instructions) {
      switch (instr.kind) {
        case "cmd":
        case "entrypoint":
          if (instr.form === "shell") {
            warn("JSONArgsRecommended", `JSON arguments recommended for ${instr.kind.toUpperCase()} to prevent unintended behavior related to OS signals`, instr.location);
          }
          break;
        case "maintainer":
          warn("MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", instr.location);
          break;
        case "workdir": {
          // Relative and not starting with a variable (which may well be absolute).
          if (!instr.path.startsWith("/") && !instr.path.startsWith("$")) {
            warn("WorkdirRelativePath", `Relative workdir "${instr.path}" can have unexpected results if the base image changes`, instr.location);
          }
          break;
        }
      }
      if (instr.kind === "cmd" || instr.kind === "entrypoint" || instr.kind === "healthcheck") {
        if (seenOnce.has(instr.kind)) {
          const keyword = instr.kind.toUpperCase();
          warn("MultipleInstructionsDisallowed", `Multiple ${keyword} instructions should not be used in the same stage because only the last one will be used`, seenOnce.get(instr.kind)!);
        }
        seenOnce.set(instr.kind, instr.location);
      }
      const isDefined = (n: string) => defined.has(n) || PREDEFINED.has(n);
      for (const name of undefinedVars(instr, isDefined)) {
        warn("UndefinedVar", `Usage of undefined variable '$${name}'${suggestion(name, defined)}`, instr.location);
      }
      if (instr.kind === "env") for (const p of instr.pairs) defined.add(p.key);
      if (instr.kind === "arg") for (const a of instr.args) defined.add(a.name);
    }
  }
  return out.sort((a, b) => a.location.line - b.location.line);
}

/** `WARNING: Rule - Dockerfile:LINE: message`, as BuildKit prints them. */
export function formatWarning(w: Warning): string {
  return `WARNING: ${w.rule} - ${w.location.file}:${w.location.line}: ${w.message}`;
}

function keywordOf(location: Location, original: string): string {
  const fromText = /^\s*([A-Za-z]+)/.exec(location.text)?.[1];
  return fromText ?? original.split(/\s/, 1)[0] ?? "";
}

/** Words an instruction expands at build time (shell-form RUN/CMD are the shell's business). */
function expandedWords(instr: Instruction): string[] {
  switch (instr.kind) {
    case "env":
    case "label":
      return instr.pairs.flatMap((p) => [p.key, p.value]);
    case "arg":
      return instr.args.flatMap((a) => (a.default !== undefined ? [a.default] : []));
    case "copy":
    case "add":
      return [...instr.sources, instr.dest, ...(instr.chown !== undefined ? [instr.chown] : []), ...(instr.chmod !== undefined ? [instr.chmod] : [])];
    case "workdir":
      return [instr.path];
    case "user":
      return [instr.user];
    case "expose":
      return instr.ports;
    case "volume":
      return instr.paths;
    case "stopsignal":
      return [instr.signal];
    default:
      return [];
  }
}

function undefinedVars(instr: Instruction, isDefined: (n: string) => boolean): string[] {
  const names: string[] = [];
  if (instr.kind === "env") {
    // Each pair sees the pairs before it on the same line.
    const local = new Set<string>();
    for (const p of instr.pairs) {
      names.push(...unmatchedIn(p.value, (n) => isDefined(n) || local.has(n)));
      local.add(p.key);
    }
    return unique(names);
  }
  for (const w of expandedWords(instr)) names.push(...unmatchedIn(w, isDefined));
  return unique(names);
}

function unmatchedIn(word: string, isDefined: (n: string) => boolean): string[] {
  try {
    // A lookup that answers "" for known names and undefined for the rest.
    const r = expandWordWithMatches(word, (n) => (isDefined(n) ? "" : undefined));
    return [...r.unmatched];
  } catch {
    return []; // malformed expansions are reported by the build itself
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function suggestion(name: string, defined: ReadonlySet<string>): string {
  for (const d of defined) if (d.toLowerCase() === name.toLowerCase()) return ` (did you mean $${d}?)`;
  return "";
}

/**
 * For a normal build (BuildKit lints every build): the warnings to show,
 * and, with `# check=error=true` and any warning, the error that stops the
 * build before its first step.
 */
export function lintForBuild(df: Dockerfile, text: string): { warnings: Warning[]; error?: KilnError } {
  const warnings = checkDockerfile(df, text);
  if (warnings.length === 0 || !parseCheckDirective(df.directives.check).error) return { warnings };
  const first = warnings[0]!;
  const rules = [...new Set(warnings.map((w) => w.rule))].join(", ");
  return {
    warnings,
    error: new KilnError("LINT_FAILED", `lint violation found for rules: ${rules}`, {
      location: { file: first.location.file, line: first.location.line, text: first.location.text },
      hint: "fix the warnings above, or skip rules with # check=skip=RULE",
    }),
  };
}
