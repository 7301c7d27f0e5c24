import { KilnError } from "../util/errors.js";

// Shell glob patterns as used by ${v#p}, ${v%p} and ${v/p/r}. The pattern
// text arrives with its escapes still in place (the lexer keeps them for
// exactly this purpose), so `\*` here means a literal star.

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/;

/** Translate a shell pattern into the source of an equivalent RegExp (u flag). */
export function patternToRegexSource(pattern: string): string {
  const chars = Array.from(pattern);
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") {
      // Go's regexp `.` (as BuildKit uses it) never matches a newline.
      out += "[^\\n]*";
    } else if (ch === "?") {
      out += "[^\\n]";
    } else if (ch === "\\") {
      const next = chars[i + 1];
      if (next === undefined || !"*?\\}/".includes(next)) {
        throw new KilnError("EXPANSION", `invalid escape "\\${next ?? ""}" in pattern "${pattern}"`, {
          hint: "only \\* \\? \\\\ \\} and \\/ may be escaped in a pattern",
        });
      }
      out += escapeRegexChar(next);
      i++;
    } else {
      out += escapeRegexChar(ch);
    }
  }
  return out;
}

function escapeRegexChar(ch: string): string {
  return REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
}

/** Remove the shortest (or longest) prefix or suffix of `value` that matches `pattern`. */
export function trimByPattern(value: string, pattern: string, side: "prefix" | "suffix", longest: boolean): string {
  const whole = new RegExp(`^(?:${patternToRegexSource(pattern)})$`, "u");
  const chars = Array.from(value);
  const n = chars.length;
  for (let k = 0; k <= n; k++) {
    const len = longest ? n - k : k;
    const part = side === "prefix" ? chars.slice(0, len).join("") : chars.slice(n - len).join("");
    if (whole.test(part)) {
      return side === "prefix" ? chars.slice(len).join("") : chars.slice(0, n - len).join("");
    }
  }
  return value;
}

/** Replace the leftmost (or every) match of `pattern` in `value`; `replacement` is inserted verbatim. */
export function replaceByPattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = new RegExp(patternToRegexSource(pattern), all ? "gu" : "u");
  return value.replace(re, () => replacement);
}
