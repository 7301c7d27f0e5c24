import { KilnError } from "../util/errors.js";

// Shell glob patterns as used by ${v#p}, ${v%p} and ${v/p/r}, with the
// semantics of BuildKit's shell lexer: `*` and `?` (neither matches a
// newline, like Go's regexp `.`), `\*` `\?` `\\` literal, `\}` and `\/`
// the bare character; no bracket expressions (`[` is literal, as upstream).
// BuildKit compiles the pattern to an RE2 regexp and takes its leftmost-first
// match; here the same match is computed by a Pike VM over the pattern's
// tokens, so time is O(value × pattern) whatever the input — a hostile
// `${A##*a*a*a*a*b}` cannot backtrack, and no character can break a regexp.

type Token = { kind: "lit"; ch: string } | { kind: "any" } | { kind: "star" };

/** Parse a pattern (its escapes still in place, as the lexer keeps them) into tokens. */
export function parsePattern(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") out.push({ kind: "star" });
    else if (ch === "?") out.push({ kind: "any" });
    else if (ch === "\\") {
      const next = chars[i + 1];
      if (next === "}" || next === "/") continue; // the escape only kept ${...} from ending here
      if (next !== "*" && next !== "?" && next !== "\\") {
        throw new KilnError("EXPANSION", `invalid pattern (${pattern}) in substitution: invalid escape "\\${next ?? ""}"`, {
          hint: "only \\* \\? \\\\ \\} and \\/ may be escaped in a pattern",
        });
      }
      out.push({ kind: "lit", ch: next });
      i++;
    } else out.push({ kind: "lit", ch });
  }
  return out;
}

interface Thread {
  pc: number;
  start: number;
}

/**
 * The leftmost-first match of `tokens` in `text` at or after `from` (only at
 * `from` when anchored), as [start, end] code-point offsets. `greedy` picks
 * `.*` over `.*?` for every star — exactly the priorities RE2 and Go use.
 */
function findMatch(tokens: readonly Token[], text: readonly string[], from: number, anchored: boolean, greedy: boolean): [number, number] | undefined {
  const m = tokens.length;
  // Per-step marks (by generation) of pcs already in the list being built and
  // of stars already expanded, so one step costs O(pattern) at most.
  const seen = new Int32Array(m + 1).fill(-1);
  const expanded = new Int32Array(m + 1).fill(-1);
  let generation = 0;

  // Add the epsilon closure of `pc0` to `list` in priority order, with an
  // explicit stack (a run of stars must not recurse once per star). A star
  // both waits to consume (its "waiter" thread) and may be skipped (pc+1);
  // greedy prefers the waiter, non-greedy the skip.
  const addClosure = (list: Thread[], pc0: number, start: number) => {
    const stack: Array<{ pc: number; waiter: boolean }> = [{ pc: pc0, waiter: false }];
    while (stack.length > 0) {
      const { pc, waiter } = stack.pop() as { pc: number; waiter: boolean };
      if (!waiter && tokens[pc]?.kind === "star") {
        if (expanded[pc] === generation) continue;
        expanded[pc] = generation;
        // The branch popped first has priority, so it is pushed last.
        if (greedy) stack.push({ pc: pc + 1, waiter: false }, { pc, waiter: true });
        else stack.push({ pc, waiter: true }, { pc: pc + 1, waiter: false });
        continue;
      }
      if (seen[pc] === generation) continue;
      seen[pc] = generation;
      list.push({ pc, start });
    }
  };

  let clist: Thread[] = [];
  let found: [number, number] | undefined;
  for (let i = from; i <= text.length; i++) {
    generation++;
    if (found === undefined && (!anchored || i === from)) {
      // The threads already in clist keep their (higher) priority over a new start.
      for (const t of clist) seen[t.pc] = generation;
      addClosure(clist, 0, i);
    }
    if (clist.length === 0) break;
    generation++;
    const nlist: Thread[] = [];
    const ch = text[i];
    for (const t of clist) {
      if (t.pc === m) {
        found = [t.start, i];
        break; // threads after this one have lower priority than a match
      }
      if (ch === undefined) continue;
      const tok = tokens[t.pc] as Token;
      if (tok.kind === "lit" ? tok.ch === ch : ch !== "\n") {
        addClosure(nlist, tok.kind === "star" ? t.pc : t.pc + 1, t.start);
      }
    }
    clist = nlist;
  }
  return found;
}

function reverseTokens(tokens: readonly Token[]): Token[] {
  return [...tokens].reverse();
}

/**
 * Remove the prefix (`#`) or suffix (`%`) of `value` that `pattern` matches:
 * the shortest one, or with `longest` (`##`, `%%`) the longest. A suffix is
 * found by matching the reversed pattern against the reversed value, as
 * BuildKit does.
 */
export function trimByPattern(value: string, pattern: string, side: "prefix" | "suffix", longest: boolean): string {
  let tokens = parsePattern(pattern);
  let chars = Array.from(value);
  if (side === "suffix") {
    tokens = reverseTokens(tokens);
    chars = chars.reverse();
  }
  const match = findMatch(tokens, chars, 0, true, longest);
  if (match === undefined) return value;
  const rest = chars.slice(match[1]);
  return (side === "suffix" ? rest.reverse() : rest).join("");
}

/**
 * Replace the leftmost (or, with `all`, every) longest match of `pattern`.
 * A single replacement is inserted verbatim; for `//` BuildKit uses Go's
 * ReplaceAllString, whose template turns `$0`/`${0}` into the match, `$$`
 * into `$` and any other `$name` into nothing — reproduced here.
 */
export function replaceByPattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const tokens = parsePattern(pattern);
  const chars = Array.from(value);
  if (!all) {
    const match = findMatch(tokens, chars, 0, false, true);
    if (match === undefined) return value;
    return chars.slice(0, match[0]).join("") + replacement + chars.slice(match[1]).join("");
  }
  // Go's regexp.ReplaceAllString loop: no empty match right after a match.
  let out = "";
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= chars.length) {
    const match = findMatch(tokens, chars, searchPos, false, true);
    if (match === undefined) break;
    const [a, b] = match;
    out += chars.slice(lastEnd, a).join("");
    if (b > lastEnd || a === 0) out += expandTemplate(replacement, chars.slice(a, b).join(""));
    lastEnd = b;
    searchPos = searchPos + 1 > b ? searchPos + 1 : b;
  }
  return out + chars.slice(lastEnd).join("");
}

/** Go's Regexp.Expand for a regexp without capture groups. */
function expandTemplate(template: string, whole: string): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === "$") {
      out += "$";
      i++;
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(template.slice(i));
    if (!ref) {
      out += "$";
      continue;
    }
    i += ref[0].length;
    if ((ref[1] ?? ref[2]) === "0") out += whole;
  }
  return out + template.slice(i);
}
