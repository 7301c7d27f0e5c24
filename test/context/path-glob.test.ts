// path-glob against minimatch `{ dot: true }` (what kiln used before): the
// same answers on generated patterns and paths, full and partial matches.
import { describe, expect, it } from "vitest";
import { minimatch } from "minimatch";
import { pathGlob } from "../../src/context/path-glob.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// `\a` (an escaped ordinary letter) is left out: minimatch gets it wrong after
// another wildcard (`?\a` does not match "ca"); Go's filepath.Match, which
// path-glob follows, is checked in the table below.
const PAT_ATOMS = ["a", "b", "c", ".", "*", "?", "[a-c]", "[^a]", "[b]", "\\*"];
const NAME_CHARS = ["a", "b", "c", ".", "*", "d"];

describe("path-glob", () => {
  it("agrees with minimatch {dot:true} on generated pattern/path pairs", () => {
    const r = rng(20261206);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    let compared = 0;
    const mismatches: string[] = [];
    for (let k = 0; k < 4000; k++) {
      // Pattern segments of only dots are left out: kiln normalises patterns before matching.
      const segment = (): string => {
        let seg = "";
        while (seg === "" || /^\.+$/.test(seg)) seg = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(PAT_ATOMS)).join("");
        return seg;
      };
      const pat = Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.2 ? "**" : segment())).join("/");
      const path = Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
        let name = "";
        while (name === "" || /^\.+$/.test(name)) name = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(NAME_CHARS)).join("");
        return name;
      }).join("/");
      for (const partial of [false, true]) {
        const want = minimatch(path, pat, { dot: true, partial });
        const g = pathGlob(pat);
        const got = partial ? g.mayMatchUnder(path) : g.matches(path);
        compared++;
        if (got !== want) mismatches.push(`${JSON.stringify(pat)} ${JSON.stringify(path)} partial=${partial}: minimatch ${want}, path-glob ${got}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(compared).toBe(8000);
  });

  // [pattern, path, matches, mayMatchUnder]
  const table: [string, string, boolean, boolean][] = [
    // minimatch's `**` rules, kept
    ["a/**", "a/b/c", true, true],
    ["a/**", "a", false, true],
    ["**/x", "x", true, true],
    ["a/**/b", "a/b", true, true],
    ["*", ".hidden", true, true],
    ["*", "a/b", false, false],
    ["a/*/c", "b", false, false],
    // Go filepath.Match escapes and classes
    ["?\\a", "ca", true, true],
    ["\\*", "*", true, true],
    ["\\*", "x", false, false],
    ["[^a-c]x", "dx", true, true],
    ["[^a-c]x", "bx", false, false],
    ["[\\]]", "]", true, true],
    ["?", "é", true, true],
  ];
  it.each(table)("%j against %j: matches %s, may match under %s", (pattern, rel, full, under) => {
    expect(pathGlob(pattern).matches(rel)).toBe(full);
    expect(pathGlob(pattern).mayMatchUnder(rel)).toBe(under);
  });

  it("matches a hostile segment in linear-ish time", () => {
    const name = "a".repeat(5000);
    const t0 = process.hrtime.bigint();
    expect(pathGlob("*a*a*a*a*a*a*a*a*a*a*a*a*b").matches(name)).toBe(false);
    expect(pathGlob("**/*a*a*a*a*a*a*a*a*a*a*b/**").matches(`${name}/${name}/${name}`)).toBe(false);
    expect(pathGlob("*a*a*a*a*a*a*a*a*a*a*b/**").mayMatchUnder(`${name}/x`)).toBe(false);
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(500);
  });
});
