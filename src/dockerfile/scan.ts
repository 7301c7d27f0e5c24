import { KilnError } from "../util/errors.js";
import { readDirectives } from "./directives.js";
import { findHeredocMarkers, readHeredocBodies } from "./heredoc.js";
import type { RawInstruction } from "./instructions.js";
import { nextLogicalLine, stripLineEnd } from "./logical-line.js";
import type { Directives, Heredoc, Location } from "./types.js";
import { extractFlags, parseJsonArray, type RawFlag } from "./words.js";

// First pass over the text, following BuildKit's parser line by line:
// directives, instruction boundaries, continuations, comments, keyword,
// flags, argument text and heredoc bodies. (dockerfile-ast is not used
// here: it keeps comment lines inside continuations and misreads some
// heredoc names, e.g. `<<eo'f'`, swallowing the instructions after them.)

const HEREDOC_KEYWORDS = new Set(["RUN", "COPY", "ADD"]);
const MAX_LINE_BYTES = 65535;

export interface ScannedInstruction extends RawInstruction {
  /** The keyword as written (for messages and the AST dump). */
  written: string;
  /** Flag words as given, quotes removed (`--mount=type=cache`). */
  flagWords: string[];
  /** 1-based last physical line, heredoc bodies included. */
  endLine: number;
}

export interface Scanned {
  directives: Directives;
  instructions: ScannedInstruction[];
  /** The physical lines, for locations outside any instruction. */
  lines: string[];
}

/** Split a logical line into keyword, flags and the remaining argument text. */
export function splitInstruction(text: string, escape: string): { keyword: string; written: string; flags: RawFlag[]; flagWords: string[]; rest: string } {
  const m = /^([^\t\v\f\r ]*)[\t\v\f\r ]*([\s\S]*)$/.exec(text.trim());
  const written = m?.[1] ?? "";
  const { flags, words, rest } = extractFlags(m?.[2] ?? "", escape);
  return { keyword: written.toUpperCase(), written, flags, flagWords: words, rest };
}

function splitLines(source: string): string[] {
  const lines = source.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

export function scanDockerfile(text: string, file: string): Scanned {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = splitLines(source);
  lines.forEach((line, i) => {
    if (Buffer.byteLength(line, "utf8") > MAX_LINE_BYTES) {
      throw new KilnError("DOCKERFILE_LINE_TOO_LONG", `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, {
        location: { file, line: i + 1, text: line.slice(0, 80) },
      });
    }
  });
  const directives = readDirectives(lines, file);
  const escape = directives.escape;
  const instructions: ScannedInstruction[] = [];

  let from = 0;
  for (;;) {
    const logical = nextLogicalLine(lines, from, escape);
    if (logical === undefined) break;
    const location: Location = { file, line: logical.start + 1, text: stripLineEnd(lines[logical.start] as string) };
    if (logical.end > logical.start) location.more = lines.slice(logical.start + 1, logical.end + 1).map(stripLineEnd);
    const parts = splitInstruction(logical.text, escape);
    let end = logical.end;

    // ONBUILD RUN <<EOF takes its heredoc like a plain RUN would.
    const target = parts.keyword === "ONBUILD" ? splitInstruction(parts.rest, escape) : parts;
    let heredocs: Heredoc[] = [];
    if (HEREDOC_KEYWORDS.has(target.keyword) && target.rest.includes("<<") && parseJsonArray(target.rest) === undefined) {
      const markers = findHeredocMarkers(target.rest, escape);
      if (markers.length > 0) {
        const bodies = readHeredocBodies(markers, lines, logical.end + 1, location);
        heredocs = bodies.heredocs;
        end = bodies.nextLine - 1;
      }
    }
    instructions.push({ ...parts, location, original: logical.text, escape, heredocs, endLine: end + 1 });
    from = end + 1;
  }
  return { directives, instructions, lines };
}
