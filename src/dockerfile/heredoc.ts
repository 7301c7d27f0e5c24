import { KilnError } from "../util/errors.js";
import type { Heredoc, Location } from "./types.js";

// Here-documents on RUN, COPY and ADD: `<<EOF`, `<<-EOF` (strip tabs),
// `3<<EOF` (file descriptor), quoted names (`<<'EOF'`: no expansion).

export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
  fileDescriptor?: number;
}

const BLANK = /[ \t]/;

/** Find the unquoted `<<NAME` markers of an instruction's argument text, in order. */
export function findHeredocMarkers(args: string, escape: string): HeredocMarker[] {
  return scanMarkers(args, escape).markers;
}

/** The argument text with every heredoc marker removed (COPY/ADD: what is left are paths). */
export function withoutHeredocMarkers(args: string, escape: string): string {
  const { chars, spans } = scanMarkers(args, escape);
  let out = "";
  let at = 0;
  for (const [from, to] of spans) {
    out += chars.slice(at, from).join("") + " ";
    at = to;
  }
  return out + chars.slice(at).join("");
}

function scanMarkers(args: string, escape: string): { markers: HeredocMarker[]; spans: [number, number][]; chars: string[] } {
  const chars = Array.from(args);
  const markers: HeredocMarker[] = [];
  const spans: [number, number][] = [];
  let i = 0;
  let wordStart = true;
  while (i < chars.length) {
    const ch = chars[i] as string;
    if (BLANK.test(ch)) {
      wordStart = true;
      i++;
      continue;
    }
    if (wordStart) {
      let j = i;
      let digits = "";
      while (j < chars.length && /[0-9]/.test(chars[j] as string)) digits += chars[j++];
      if (chars[j] === "<" && chars[j + 1] === "<" && chars[j + 2] !== "<") {
        const parsed = readMarker(chars, j + 2, escape);
        if (parsed) {
          markers.push({ ...parsed.marker, ...(digits !== "" ? { fileDescriptor: Number(digits) } : {}) });
          spans.push([i, parsed.end]);
          i = parsed.end;
          wordStart = false;
          continue;
        }
      }
    }
    wordStart = false;
    i = skipToken(chars, i, escape);
  }
  return { markers, spans, chars };
}

/** Advance past one character, or a whole quoted run, or an escape pair. */
function skipToken(chars: string[], i: number, escape: string): number {
  const ch = chars[i];
  if (ch === escape) return i + 2;
  if (ch === "'" || ch === '"') {
    let j = i + 1;
    while (j < chars.length && chars[j] !== ch) j += chars[j] === escape && ch === '"' ? 2 : 1;
    return j + 1;
  }
  return i + 1;
}

function readMarker(chars: string[], i: number, escape: string): { marker: Omit<HeredocMarker, "fileDescriptor">; end: number } | undefined {
  let j = i;
  const chomp = chars[j] === "-";
  if (chomp) j++;
  while (j < chars.length && BLANK.test(chars[j] as string)) j++;
  let name = "";
  let quoted = false;
  while (j < chars.length && !BLANK.test(chars[j] as string)) {
    const ch = chars[j] as string;
    if (ch === "'" || ch === '"') {
      quoted = true;
      let k = j + 1;
      while (k < chars.length && chars[k] !== ch) {
        if (ch === '"' && chars[k] === escape && k + 1 < chars.length) k++;
        name += chars[k];
        k++;
      }
      if (k >= chars.length) return undefined; // unterminated quote: not a heredoc
      j = k + 1;
    } else if (ch === escape && j + 1 < chars.length) {
      name += chars[j + 1];
      j += 2;
    } else {
      name += ch;
      j++;
    }
  }
  if (name === "") return undefined;
  return { marker: { name, expand: !quoted, chomp }, end: j };
}

/** Remove leading tabs from every line, as `<<-` asks. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, "");
}

/** Read each marker's body from the lines following the instruction. */
export function readHeredocBodies(
  markers: readonly HeredocMarker[],
  lines: readonly string[],
  start: number,
  location: Location,
): { heredocs: Heredoc[]; nextLine: number } {
  const heredocs: Heredoc[] = [];
  let i = start;
  for (const m of markers) {
    let content = "";
    let terminated = false;
    while (i < lines.length) {
      const line = (lines[i] as string).replace(/[\r\n]+$/, "");
      i++;
      const candidate = m.chomp ? line.replace(/^\t+/, "") : line;
      if (candidate === m.name) {
        terminated = true;
        break;
      }
      content += line + "\n";
    }
    if (!terminated) {
      throw new KilnError("DOCKERFILE_HEREDOC", `unterminated heredoc "${m.name}"`, {
        location,
        hint: `end it with a line containing only ${m.name}`,
      });
    }
    heredocs.push({
      name: m.name,
      content: m.chomp ? chompHeredoc(content) : content,
      expand: m.expand,
      chomp: m.chomp,
      ...(m.fileDescriptor !== undefined ? { fileDescriptor: m.fileDescriptor } : {}),
    });
  }
  return { heredocs, nextLine: i };
}
