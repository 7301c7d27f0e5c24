import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expandWord, expandWordWithMatches, expandWords, lookupFrom } from "../../src/dockerfile/expand.js";

// Runs BuildKit's shell-lexer vectors (see ../shared/conformance/README.md,
// sections 4-6) against kiln's expander.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const conformance = path.resolve(repoRoot, "../shared/conformance");
const present = existsSync(conformance);
if (!present) console.log(`conformance vectors not found at ${conformance}: skipping expansion conformance`);

const suite = present ? describe : describe.skip;

interface Outcome {
  label: string;
  ok: boolean;
  detail: string;
}

function report(set: string, outcomes: Outcome[]): void {
  const failed = outcomes.filter((o) => !o.ok);
  console.log(`${set}: ${outcomes.length - failed.length} passed, ${failed.length} failed`);
  for (const f of failed) console.log(`  FAIL ${f.label}: ${f.detail}`);
}

function lines(file: string): string[] {
  const all = readFileSync(file, "utf8").split("\n");
  if (all.at(-1) === "") all.pop(); // like Go's line scanner
  return all.map((l) => l.replace(/\r$/, ""));
}

function attempt(fn: () => string): { value?: string; error?: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

suite("BuildKit expansion conformance", () => {
  it("shell/envVarTest (Unix rules)", () => {
    const env = new Map([
      ["PWD", "/home"],
      ["SHELL", "bash"],
      ["KOREAN", "한국어"],
      ["NULL", ""],
    ]);
    const outcomes: Outcome[] = [];
    for (const raw of lines(path.join(conformance, "buildkit/shell/envVarTest"))) {
      if (raw.startsWith("#")) continue;
      const line = raw.trim();
      if (line === "") continue;
      const fields = line.split("|").map((f) => f.trim());
      expect(fields).toHaveLength(3);
      const [platform, input, expected] = fields as [string, string, string];
      if (platform !== "A" && platform !== "U") continue;
      const got = attempt(() => expandWord(input, lookupFrom(env)));
      const ok = expected === "error" ? got.error !== undefined : got.value === expected;
      outcomes.push({ label: input, ok, detail: `want ${JSON.stringify(expected)}, got ${got.error ? String(got.error) : JSON.stringify(got.value)}` });
    }
    report("envVarTest", outcomes);
    expect(outcomes.length).toBe(228);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });

  it("shell/wordsTest", () => {
    const env = new Map<string, string>();
    const outcomes: Outcome[] = [];
    for (const line of lines(path.join(conformance, "buildkit/shell/wordsTest"))) {
      if (line.startsWith("#")) continue;
      if (line.startsWith("ENV ")) {
        const kv = line.slice(3).replace(/^ +/, "");
        const eq = kv.indexOf("=");
        env.set(kv.slice(0, eq), kv.slice(eq + 1));
        continue;
      }
      const fields = line.split("|");
      expect(fields).toHaveLength(2);
      const input = (fields[0] as string).trim();
      const expected = (fields[1] as string).replace(/^ +/, "").split(",");
      let got: string[];
      try {
        got = expandWords(input, lookupFrom(env));
      } catch {
        got = ["error"];
      }
      const ok = JSON.stringify(got) === JSON.stringify(expected);
      outcomes.push({ label: input, ok, detail: `want ${JSON.stringify(expected)}, got ${JSON.stringify(got)}` });
    }
    report("wordsTest", outcomes);
    expect(outcomes.length).toBe(24);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });

  it("inline/shell-expansion.json", () => {
    interface Case {
      input: string;
      envs: Record<string, string>;
      expectError: boolean;
      errorContains?: string;
      expected?: string;
      matched?: string[];
      unmatched?: string[];
    }
    const data = JSON.parse(readFileSync(path.join(conformance, "buildkit/inline/shell-expansion.json"), "utf8")) as Record<string, unknown>;
    const outcomes: Outcome[] = [];
    for (const group of ["processWithMatches", "mandatoryEnvVars", "platformRelease"]) {
      for (const c of data[group] as Case[]) {
        const label = `${group} ${c.input} ${JSON.stringify(c.envs)}`;
        let ok: boolean;
        let detail: string;
        try {
          const r = expandWordWithMatches(c.input, lookupFrom(c.envs));
          detail = `got ${JSON.stringify(r.value)} matched=${[...r.matched].sort().join(",")} unmatched=${[...r.unmatched].sort().join(",")}`;
          ok = !c.expectError && r.value === c.expected;
          if (ok && group === "processWithMatches") {
            ok =
              JSON.stringify([...r.matched].sort()) === JSON.stringify([...(c.matched ?? [])].sort()) &&
              JSON.stringify([...r.unmatched].sort()) === JSON.stringify([...(c.unmatched ?? [])].sort());
          }
        } catch (error) {
          detail = `error ${String(error)}`;
          ok = c.expectError && (c.errorContains === undefined || String((error as Error).message).includes(c.errorContains));
        }
        outcomes.push({ label, ok, detail: `want ${c.expectError ? "error" : JSON.stringify(c.expected)}, ${detail}` });
      }
    }
    report("shell-expansion.json", outcomes);
    expect(outcomes.length).toBe(56);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });
});
