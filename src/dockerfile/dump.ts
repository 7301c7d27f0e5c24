import { KilnError } from "../util/errors.js";
import { scanDockerfile, splitInstruction } from "./scan.js";
import { parseJsonArray, parseWords, splitBlanks } from "./words.js";

// BuildKit's parser AST dump (`(run "echo hi")` per instruction), used to
// check kiln's line-level parsing against BuildKit's golden files. It works
// on the scanned instructions only: no typing, unknown keywords allowed.

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0) as number;
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (c === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(c)) out += c;
    else if (c === "\u0007") out += "\\a";
    else if (c === "\b") out += "\\b";
    else if (c === "\f") out += "\\f";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c === "\v") out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

function fail(message: string): never {
  throw new KilnError("DOCKERFILE_PARSE", message);
}

function jsonOr(rest: string, otherwise: () => string[]): string[] {
  const json = parseJsonArray(rest);
  if (json === "not-strings") fail("when using JSON array syntax, arrays must be comprised of strings only");
  return json ?? otherwise();
}

function nameValue(keyword: string, rest: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  const first = words[0];
  if (first === undefined) return [];
  if (!first.includes("=")) {
    const m = /^([^\t\v\f\r ]+)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
    if (!m) fail(`${keyword} must have two arguments`);
    return [m[1] as string, m[2] as string, ""];
  }
  return words.flatMap((w) => {
    const eq = w.indexOf("=");
    if (eq < 0) fail(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1), "="];
  });
}

/** ONBUILD triggers nest one dumpLine call each; bound it so input cannot exhaust the stack. */
const MAX_TRIGGER_DEPTH = 100;

function dumpLine(text: string, escape: string, depth = 0): string {
  if (depth > MAX_TRIGGER_DEPTH) fail(`ONBUILD nested more than ${MAX_TRIGGER_DEPTH} deep`);
  const { keyword, written, flagWords, rest } = splitInstruction(text, escape);
  const one = (): string[] => (rest === "" ? [] : [rest]);
  let args: string[];
  let nested: string | undefined;
  switch (keyword) {
    case "RUN":
    case "CMD":
    case "ENTRYPOINT":
    case "SHELL":
      args = jsonOr(rest, one);
      break;
    case "ADD":
    case "COPY":
    case "VOLUME":
      args = jsonOr(rest, () => splitBlanks(rest));
      break;
    case "FROM":
    case "EXPOSE":
      args = splitBlanks(rest);
      break;
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL":
    case "MAINTAINER":
      args = one();
      break;
    case "ARG":
      args = parseWords(rest, escape);
      break;
    case "ENV":
    case "LABEL":
      args = nameValue(keyword, rest, escape);
      break;
    case "HEALTHCHECK": {
      if (rest === "") {
        args = [];
        break;
      }
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      const cmd = m?.[2] ?? "";
      args = [m?.[1] ?? rest, ...jsonOr(cmd, () => (cmd === "" ? [] : [cmd]))];
      break;
    }
    case "ONBUILD":
      args = [];
      if (rest !== "") nested = dumpLine(rest, escape, depth + 1);
      break;
    default:
      args = [""];
  }
  let out = `(${written.toLowerCase()}`;
  if (flagWords.length > 0) out += ` [${flagWords.map(goQuote).join(" ")}]`;
  for (const a of args) out += ` ${goQuote(a)}`;
  if (nested !== undefined) out += ` ${nested}`;
  return `${out})`;
}

/** The dump of a whole Dockerfile, one line per instruction, no trailing newline. */
export function dumpDockerfile(text: string): string {
  const { directives, instructions } = scanDockerfile(text, "Dockerfile");
  if (instructions.length === 0) fail("file with no instructions");
  return instructions.map((i) => dumpLine(i.original, directives.escape)).join("\n");
}
