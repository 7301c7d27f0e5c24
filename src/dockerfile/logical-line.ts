// Joins an instruction's physical lines into the single logical line
// BuildKit parses: a final escape token (not itself escaped) continues the
// line, and blank or comment lines met while continuing are dropped.

export interface LogicalLine {
  /** Keyword and arguments, continuations joined, trimmed. */
  text: string;
  /** 0-based index of the instruction's first physical line. */
  start: number;
  /** 0-based index of the last physical line consumed. */
  end: number;
}

export function stripLineEnd(line: string): string {
  return line.replace(/[\r\n]+$/, "");
}

function escapeRegex(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}

/** Returns the line without its continuation marker, or undefined if it does not continue. */
function continuation(line: string, escape: string): string | undefined {
  const e = escapeRegex(escape);
  if (new RegExp(`^${e}[ \\t]*$`).test(line)) return "";
  const m = new RegExp(`([^${e}])${e}[ \\t]*$`).exec(line);
  return m ? line.slice(0, m.index) + (m[1] as string) : undefined;
}

const isComment = (line: string): boolean => /^\s*#/.test(line);

/** The next logical line at or after physical line `from`, or undefined at the end. */
export function nextLogicalLine(lines: readonly string[], from: number, escape: string): LogicalLine | undefined {
  for (let i = from; i < lines.length; i++) {
    let first = stripLineEnd(lines[i] as string).replace(/^\s+/, "");
    if (first.startsWith("#")) first = "";
    const cont = continuation(first, escape);
    if (cont === undefined && first === "") continue;
    let text = cont ?? first;
    let end = i;
    let continuing = cont !== undefined;
    while (continuing && end + 1 < lines.length) {
      end++;
      const line = stripLineEnd(lines[end] as string);
      if (isComment(line) || line.trim() === "") continue;
      const c = continuation(line, escape);
      text += c ?? line;
      continuing = c !== undefined;
    }
    return { text: text.trim(), start: i, end };
  }
  return undefined;
}
