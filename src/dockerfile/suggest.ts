// "Did you mean" for misspelt keywords.

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(above + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = above;
    }
  }
  return prev[b.length] as number;
}

/** The closest candidate within a small distance, or undefined. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toUpperCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(w.length / 2)));
  for (const c of candidates) {
    const d = editDistance(w, c.toUpperCase());
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * BuildKit's suggestion suffix (util/suggest): the option closest to `word`
 * by edit distance, if it is fewer than 3 edits away, as " (did you mean X?)";
 * "" when nothing is that close.
 */
export function didYouMean(word: string, options: readonly string[], caseSensitive = true): string {
  const w = caseSensitive ? word : word.toLowerCase();
  let match: string | undefined;
  let best = 3;
  for (const o of options) {
    if (o === w) return "";
    const d = editDistance(w, caseSensitive ? o : o.toLowerCase());
    if (d < best) {
      best = d;
      match = o;
    }
  }
  return match === undefined ? "" : ` (did you mean ${match}?)`;
}
