// Slash-path globbing for COPY/ADD sources, COPY --exclude and .dockerignore,
// in time polynomial in the path and pattern (a hostile Dockerfile or
// .dockerignore must not make kiln hang, issue 14). A segment uses Go's
// filepath.Match syntax: `*` any run of non-`/` characters, `?` one, `[a-c]` /
// `[^a-c]` classes, `\` escapes the next character. A segment that is exactly
// `**` matches any number of whole segments; anywhere else `**` is `*`.
// Dotfiles are ordinary names. These are the semantics kiln had with
// minimatch `{ dot: true }`, including its one quirk kept for compatibility:
// a trailing `**` needs at least one segment (`a/**` matches `a/b`, not `a`).
// No backtracking regex: a segment is matched greedily with one backtrack
// point (the last `*`), and `**` by a table over (path segment, pattern segment).

type Token =
  | { readonly kind: "star" }
  | { readonly kind: "one" }
  | { readonly kind: "lit"; readonly ch: string }
  | { readonly kind: "class"; readonly negate: boolean; readonly ranges: readonly (readonly [string, string])[] };

type Segment = "**" | readonly Token[];

export interface PathGlob {
  /** True when the whole slash path `rel` matches. */
  matches(rel: string): boolean;
  /** True when some path below directory `dir` (or `dir` itself) could match. */
  mayMatchUnder(dir: string): boolean;
}

const cache = new Map<string, PathGlob>();

/** A compiled pattern; compiled patterns are kept (a build uses few). */
export function pathGlob(pattern: string): PathGlob {
  let g = cache.get(pattern);
  if (!g) {
    g = compile(pattern);
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, g);
  }
  return g;
}

export function globMatch(pattern: string, rel: string): boolean {
  return pathGlob(pattern).matches(rel);
}

function compile(pattern: string): PathGlob {
  const segs: Segment[] = pattern.split("/").map((s) => (s === "**" ? "**" : tokenize(s)));
  return {
    matches: (rel) => walk(segs, rel.split("/"), false),
    mayMatchUnder: (dir) => walk(segs, dir.split("/"), true),
  };
}

/**
 * reach[j] after i path segments: pattern segment j can be next. `**` can
 * stay (consume a segment) or be skipped — skipped only while path segments
 * remain (so a trailing `**` needs one, and a `**` before more pattern leaves
 * that pattern at least one segment). `partial`: the path ran out anywhere
 * in the pattern, so something below it may still match.
 */
function walk(segs: readonly Segment[], path: readonly string[], partial: boolean): boolean {
  const m = segs.length;
  let reach = new Array<boolean>(m + 1).fill(false);
  reach[0] = true;
  for (let i = 0; i < path.length; i++) {
    // Close over `**` skips first (path segment i still to come).
    for (let j = 0; j < m; j++) if (reach[j] && segs[j] === "**") reach[j + 1] = true;
    // A trailing `**` reached with segments left swallows them all.
    if (m > 0 && segs[m - 1] === "**" && reach[m - 1]) return true;
    const next = new Array<boolean>(m + 1).fill(false);
    let any = false;
    for (let j = 0; j < m; j++) {
      if (!reach[j]) continue;
      const s = segs[j]!;
      if (s === "**") {
        next[j] = true;
        any = true;
      } else if (matchSegment(s, path[i]!)) {
        next[j + 1] = true;
        any = true;
      }
    }
    if (!any) return false;
    reach = next;
  }
  return partial ? reach.some(Boolean) : reach[m]!;
}

function tokenize(seg: string): Token[] {
  const chars = Array.from(seg);
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "*") {
      if (out.at(-1)?.kind !== "star") out.push({ kind: "star" });
    } else if (c === "?") {
      out.push({ kind: "one" });
    } else if (c === "\\" && i + 1 < chars.length) {
      out.push({ kind: "lit", ch: chars[++i]! });
    } else if (c === "[") {
      const cls = parseClass(chars, i + 1);
      if (cls) {
        out.push(cls.token);
        i = cls.end;
      } else {
        out.push({ kind: "lit", ch: c }); // an unclosed `[` is itself
      }
    } else {
      out.push({ kind: "lit", ch: c });
    }
  }
  return out;
}

/** `[` ... `]` starting after the `[`; null when it never closes. */
function parseClass(chars: readonly string[], start: number): { token: Token; end: number } | null {
  let i = start;
  const negate = chars[i] === "^";
  if (negate) i++;
  const ranges: [string, string][] = [];
  const one = (): string | undefined => {
    if (chars[i] === "\\") i++;
    return chars[i++];
  };
  for (let first = true; i < chars.length; first = false) {
    if (chars[i] === "]" && !first) return { token: { kind: "class", negate, ranges }, end: i };
    const lo = one();
    if (lo === undefined) return null;
    let hi = lo;
    if (chars[i] === "-" && i + 1 < chars.length && chars[i + 1] !== "]") {
      i++;
      const h = one();
      if (h === undefined) return null;
      hi = h;
    }
    ranges.push([lo, hi]);
  }
  return null;
}

function tokenMatches(t: Token, ch: string): boolean {
  switch (t.kind) {
    case "one":
      return true;
    case "lit":
      return t.ch === ch;
    case "class": {
      const cp = ch.codePointAt(0)!;
      const hit = t.ranges.some(([lo, hi]) => lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!);
      return hit !== t.negate;
    }
    default:
      return false;
  }
}

/**
 * Every token but `*` takes exactly one character, so on a mismatch only the
 * most recent `*` needs to take one more: O(name × tokens) at worst.
 */
function matchSegment(tokens: readonly Token[], name: string): boolean {
  const s = Array.from(name);
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const t = tokens[ti];
    if (t && t.kind === "star") {
      starTi = ti++;
      starSi = si;
    } else if (t && tokenMatches(t, s[si]!)) {
      ti++;
      si++;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (tokens[ti]?.kind === "star") ti++;
  return ti === tokens.length;
}
