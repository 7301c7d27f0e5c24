import { KilnError } from "../util/errors.js";
import type { Directives } from "./types.js";

// Parser directives: `# key=value` comment lines at the very top of the
// file. The first line that is not one (a blank line, an ordinary comment,
// an instruction) ends them for good.

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const KNOWN = new Set(["syntax", "escape", "check"]);

export function readDirectives(lines: readonly string[], file: string): Directives {
  const directives: Directives = { escape: "\\" };
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/[\r\n]+$/, "");
    const line = raw.replace(/^\s+/, "");
    if (!line.startsWith("#")) break;
    const m = DIRECTIVE.exec(line.slice(1).replace(/^\s+/, ""));
    if (!m) break;
    const key = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    if (!KNOWN.has(key)) break;
    const location = { file, line: i + 1, text: raw };
    if (seen.has(key)) {
      throw new KilnError("DOCKERFILE_DIRECTIVE", `only one ${key} parser directive can be used`, { location });
    }
    seen.add(key);
    if (key === "escape") {
      if (value !== "`" && value !== "\\") {
        throw new KilnError("DOCKERFILE_DIRECTIVE", `invalid escape token '${value}' does not match \` or \\`, { location });
      }
      directives.escape = value;
    } else if (key === "syntax") {
      directives.syntax = value;
    } else {
      directives.check = value;
    }
  }
  return directives;
}
