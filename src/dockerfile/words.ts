import { isGoSpace } from "./expand.js";

// Splitting an instruction's argument text the way BuildKit's parser does
// before any expansion: leading `--flags`, quote-aware words, JSON arrays.

export interface RawFlag {
  name: string;
  /** undefined for a bare `--name` (a boolean switch). */
  value?: string;
}

/**
 * Words separated by unquoted whitespace, with quotes and escapes kept so
 * that expansion can process them later (ENV, LABEL, ARG arguments).
 */
export function parseWords(text: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(text);
  let word = "";
  let quote: string | undefined;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (quote === undefined && isGoSpace(ch)) {
      if (word !== "") words.push(word);
      word = "";
      continue;
    }
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) break; // a final escape token is dropped
      word += ch + chars[i + 1];
      i++;
      continue;
    }
    if (quote === undefined && (ch === "'" || ch === '"')) quote = ch;
    else if (quote === ch) quote = undefined;
    word += ch;
  }
  if (word !== "") words.push(word);
  return words;
}

/**
 * Split leading `--name[=value]` words off the argument text. Quotes and
 * escape tokens in a flag word are removed; `--` alone ends the flags.
 */
export function extractFlags(args: string, escape: string): { flags: RawFlag[]; words: string[]; rest: string } {
  const chars = Array.from(args);
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < chars.length && isGoSpace(chars[i] as string)) i++;
    if (chars[i] !== "-" || chars[i + 1] !== "-") break;
    let word = "";
    let quote: string | undefined;
    for (; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (quote === undefined && isGoSpace(ch)) break;
      if (ch === escape) {
        i++;
        if (i < chars.length) word += chars[i];
      } else if (quote === undefined && (ch === "'" || ch === '"')) {
        quote = ch;
      } else if (quote === ch) {
        quote = undefined;
      } else {
        word += ch;
      }
    }
    if (word === "--") break;
    words.push(word);
  }
  const flags = words.map((w): RawFlag => {
    const body = w.slice(2);
    const eq = body.indexOf("=");
    return eq < 0 ? { name: body } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
  });
  return { flags, words, rest: chars.slice(i).join("").trim() };
}

/**
 * The exec (JSON) form. Text that is not a JSON array is not exec form
 * (undefined); a JSON array holding anything but strings is "not-strings",
 * which BuildKit treats as an error rather than as shell form.
 */
export function parseJsonArray(text: string): string[] | undefined | "not-strings" {
  const t = text.trim();
  if (!t.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed.every((x): x is string => typeof x === "string") ? parsed : "not-strings";
}

/** Words split on blanks with nothing else interpreted (FROM, EXPOSE, COPY sources). */
export function splitBlanks(text: string): string[] {
  return text.split(/[\t\v\f\r ]+/).filter((w) => w !== "");
}
