import { KilnError, type SourceLocation } from "../util/errors.js";
import { replaceByPattern, trimByPattern } from "./shell-pattern.js";

// Dockerfile word expansion with the semantics of BuildKit's shell lexer:
// quotes, escapes and the ${...} forms it understands. It never runs a
// command; anything it cannot do is an error rather than a guess.

export type VarLookup = (name: string) => string | undefined;

export interface ExpandOptions {
  /** The escape token: `\` unless the Dockerfile's escape directive says "`". */
  escape?: string;
  /**
   * Heredoc bodies (BuildKit's SkipProcessQuotes): quotes are plain
   * characters (variables inside them expand too); escapes still apply, so
   * `\$` gives `$`, `\\` gives `\` and a backslash before a newline is dropped.
   */
  raw?: boolean;
}

export interface ExpandResult {
  value: string;
  /** Names looked up and found (set, possibly to ""). */
  matched: Set<string>;
  /** Names looked up and not set. */
  unmatched: Set<string>;
}

/** Expand one word: quotes removed, variables substituted, no splitting. */
export function expandWord(word: string, vars: VarLookup, opts: ExpandOptions = {}): string {
  return expandWordWithMatches(word, vars, opts).value;
}

/** expandWord for an instruction's word: an expansion error carries the instruction's file:line. */
export function expandWordAt(word: string, vars: VarLookup, location: SourceLocation, opts: ExpandOptions = {}): string {
  try {
    return expandWord(word, vars, opts);
  } catch (err) {
    if (!(err instanceof KilnError) || err.location) throw err;
    throw new KilnError(err.code, err.message, { location, ...(err.hint ? { hint: err.hint } : {}) });
  }
}

/** As expandWord, also reporting which variables were looked up. */
export function expandWordWithMatches(word: string, vars: VarLookup, opts: ExpandOptions = {}): ExpandResult {
  const lexer = new Lexer(word, vars, opts.escape ?? "\\", opts.raw ?? false);
  const value = lexer.run().value;
  return { value, matched: lexer.matched, unmatched: lexer.unmatched };
}

/** Expand and split into words on unquoted whitespace (including whitespace that came from a variable). */
export function expandWords(text: string, vars: VarLookup, opts: ExpandOptions = {}): string[] {
  return new Lexer(text, vars, opts.escape ?? "\\").run().words;
}

/** Helper for the planner: a lookup over a Map or a plain record. */
export function lookupFrom(env: ReadonlyMap<string, string> | Readonly<Record<string, string>>): VarLookup {
  if (env instanceof Map) return (name) => env.get(name);
  const rec = env as Readonly<Record<string, string>>;
  return (name) => (Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined);
}

const SPECIAL_PARAMS = "@*#?-$!";

/**
 * How deeply `${...}` may nest. The lexer recurses once per level, so an
 * unbounded depth lets a hostile `${A:-${A:-...}}` overflow the stack; no
 * real Dockerfile comes near this.
 */
export const MAX_SUBSTITUTION_DEPTH = 100;

// Go's unicode.IsSpace, which is what splits words upstream.
// A set, not a regexp: it is asked once per character of every expanded word.
const GO_SPACE = new Set(Array.from("\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"));
export function isGoSpace(ch: string): boolean {
  return GO_SPACE.has(ch);
}

function isNameChar(ch: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(ch);
}

function isDigit(ch: string): boolean {
  return ch >= "0" && ch <= "9";
}

function fail(message: string): never {
  throw new KilnError("EXPANSION", message);
}

/** Accumulates both the single-word result and the split word list in one pass. */
class Builder {
  value = "";
  readonly words: string[] = [];
  private current = "";

  /** Unquoted text: whitespace separates words. */
  addSplittable(text: string): void {
    this.value += text;
    for (const ch of text) {
      if (isGoSpace(ch)) this.flush();
      else this.current += ch;
    }
  }

  /** Quoted or escaped text: kept whole inside the current word. */
  addRaw(text: string): void {
    this.value += text;
    this.current += text;
  }

  finish(): this {
    this.flush();
    return this;
  }

  private flush(): void {
    if (this.current !== "") this.words.push(this.current);
    this.current = "";
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private depth = 0;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    input: string,
    private readonly vars: VarLookup,
    private readonly escape: string,
    private readonly raw = false,
  ) {
    this.chars = Array.from(input);
  }

  run(): Builder {
    return this.processUntil(undefined, false).builder.finish();
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  private eof(): boolean {
    return this.pos >= this.chars.length;
  }

  private lookup(name: string): string | undefined {
    const v = this.vars(name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  /**
   * Scan until `stop` (consumed) or the end. With `rawEscapes` the escape
   * token is kept in the output, so that a pattern still sees `\*`.
   */
  private processUntil(stop: string | undefined, rawEscapes: boolean): { builder: Builder; found: boolean } {
    const b = new Builder();
    while (!this.eof()) {
      const ch = this.peek() as string;
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return { builder: b, found: true };
      }
      if (ch === "'" && !this.raw) {
        b.addRaw(this.processSingleQuote());
      } else if (ch === '"' && !this.raw) {
        b.addRaw(this.processDoubleQuote(rawEscapes));
      } else if (ch === "$") {
        b.addSplittable(this.processDollar(rawEscapes));
      } else {
        this.pos++;
        if (ch === this.escape) {
          const escaped = this.next();
          if (escaped === undefined) break; // a trailing escape is dropped
          b.addRaw(rawEscapes ? ch + escaped : escaped);
        } else {
          b.addSplittable(ch);
        }
      }
    }
    return { builder: b, found: false };
  }

  private processSingleQuote(): string {
    this.pos++;
    let out = "";
    for (;;) {
      const ch = this.next();
      if (ch === undefined) fail("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return out;
      out += ch;
    }
  }

  private processDoubleQuote(rawEscapes: boolean): string {
    this.pos++;
    let out = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) fail("unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === "$") {
        out += this.processDollar(rawEscapes);
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        const escaped = this.peek();
        if (escaped === undefined) fail("unexpected end of statement while looking for matching double-quote");
        if (escaped === '"' || escaped === "$" || escaped === this.escape) {
          this.pos++;
          out += rawEscapes ? ch + escaped : escaped;
          continue;
        }
      }
      out += ch;
    }
  }

  private processName(): string {
    const first = this.peek();
    if (first === undefined) return "";
    if (isDigit(first)) {
      let name = "";
      while (!this.eof() && isDigit(this.peek() as string)) name += this.next();
      return name;
    }
    if (SPECIAL_PARAMS.includes(first)) {
      this.pos++;
      return first;
    }
    let name = "";
    while (!this.eof() && isNameChar(this.peek() as string)) name += this.next();
    return name;
  }

  private processDollar(rawEscapes: boolean): string {
    this.pos++; // '$'
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      return this.lookup(name) ?? "";
    }
    this.pos++; // '{'
    if (this.depth >= MAX_SUBSTITUTION_DEPTH) {
      throw new KilnError("EXPANSION", `substitutions nested more than ${MAX_SUBSTITUTION_DEPTH} deep`, {
        hint: "split the expression over several ARG or ENV instructions",
      });
    }
    this.depth++;
    try {
      return this.processBraced(rawEscapes);
    } finally {
      this.depth--;
    }
  }

  private processBraced(rawEscapes: boolean): string {
    const first = this.peek();
    if (first === undefined) fail("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") fail("syntax error: bad substitution");

    const name = this.processName();
    const after = this.peek();
    // ${#NAME}: the length of NAME's value (bash; not in BuildKit's lexer).
    if (name === "#" && after !== undefined && isNameChar(after)) {
      const inner = this.processName();
      if (this.next() !== "}") fail("syntax error: bad substitution");
      return String(Array.from(this.lookup(inner) ?? "").length);
    }

    const op = this.next();
    if (op === undefined) fail("syntax error: missing '}'");
    switch (op) {
      case "}":
        return this.lookup(name) ?? "";
      case ":": {
        const mod = this.next();
        if (mod === "-" || mod === "+" || mod === "?") return this.applyDefault(name, mod, true, rawEscapes);
        fail(`unsupported modifier (:${mod ?? ""}) in substitution`);
      }
      case "-":
      case "+":
      case "?":
        return this.applyDefault(name, op, false, rawEscapes);
      case "#":
      case "%": {
        const longest = this.peek() === op;
        if (longest) this.pos++;
        const pattern = this.readWord("}", true);
        const value = this.lookup(name) ?? "";
        return trimByPattern(value, pattern, op === "#" ? "prefix" : "suffix", longest);
      }
      case "/": {
        const all = this.peek() === "/";
        if (all) this.pos++;
        const pattern = this.readWord("/", true);
        const replacement = this.readWord("}", true);
        const value = this.lookup(name) ?? "";
        return replaceByPattern(value, pattern, replacement, all);
      }
      default:
        fail(`unsupported modifier (${op}) in substitution`);
    }
  }

  private readWord(stop: string, rawEscapes: boolean): string {
    const { builder, found } = this.processUntil(stop, rawEscapes);
    if (!found) fail(`syntax error: missing '${stop}' in substitution`);
    return builder.value;
  }

  private applyDefault(name: string, mod: "-" | "+" | "?", nullIsUnset: boolean, rawEscapes: boolean): string {
    const word = this.readWord("}", rawEscapes);
    const value = this.lookup(name);
    const isSet = value !== undefined && !(nullIsUnset && value === "");
    if (mod === "-") return isSet ? (value as string) : word;
    if (mod === "+") return isSet ? word : "";
    if (isSet) return value as string;
    const reason = word !== "" ? word : `is not allowed to be ${value === undefined ? "unset" : "empty"}`;
    throw new KilnError("EXPANSION", `${name}: ${reason}`);
  }
}
