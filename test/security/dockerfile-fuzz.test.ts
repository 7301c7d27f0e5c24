// Fuzzing the Dockerfile parser, linter and word expander with mutants of
// BuildKit's own vectors: whatever the input, the only exception allowed is
// a KilnError (with the Dockerfile's file:line when a Dockerfile is parsed),
// and no input may take more than 100 ms. `npm run fuzz -- COUNT SEED` runs
// this file with more inputs (FUZZ_INPUTS, FUZZ_SEED).
import { describe, expect, it } from "vitest";
import { lintForBuild } from "../../src/dockerfile/checks.js";
import { dumpDockerfile, expandWord, expandWordAt, expandWords, parseDockerfile } from "../../src/dockerfile/index.js";
import { KilnError } from "../../src/util/errors.js";
import { loadCorpus, mutate, prng } from "./fuzz-corpus.js";

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 14);
const SLOW_MS = 100;

const env = new Map([
  ["A", "a".repeat(200)],
  ["PWD", "/home"],
  ["FOO", "xxyy*?-[a]"],
  ["NULL", ""],
  ["KOREAN", "한국어"],
]);
const lookup = (n: string) => env.get(n);

interface Crash {
  readonly input: string;
  readonly error: string;
}

/** Parse, lint, and expand as a build does (ARG defaults, FROM names, every instruction's text), each at its file:line. */
function runDockerfile(text: string): void {
  const df = parseDockerfile(text, "Dockerfile");
  lintForBuild(df, text);
  for (const a of df.metaArgs) for (const d of a.args) if (d.default !== undefined) expandWordAt(d.default, lookup, a.location);
  for (const s of df.stages) {
    expandWordAt(s.from.image, lookup, s.from.location);
    for (const i of s.instructions) expandWordAt(i.original, lookup, i.location, { escape: df.directives.escape });
  }
}

/** Runs one input; returns the CPU milliseconds it took (CPU, not wall time: the machine may be shared). */
function check(what: "dockerfile" | "word", input: string, crashes: Crash[]): number {
  const started = process.cpuUsage();
  try {
    if (what === "dockerfile") runDockerfile(input);
    else {
      expandWord(input, lookup);
      expandWords(input, lookup, { escape: "`" });
      expandWord(input, lookup, { raw: true });
    }
  } catch (err) {
    const typed = err instanceof KilnError && (what === "word" || err.location !== undefined);
    if (!typed) crashes.push({ input, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
  if (what === "dockerfile") {
    try {
      dumpDockerfile(input);
    } catch (err) {
      if (!(err instanceof KilnError)) crashes.push({ input, error: `dump: ${String(err)}` });
    }
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

describe("Dockerfile fuzz", () => {
  it(`${INPUTS} mutants of BuildKit's vectors (seed ${SEED}): only typed errors, none slower than ${SLOW_MS} ms`, () => {
    const corpus = loadCorpus();
    const rand = prng(SEED);
    const crashes: Crash[] = [];
    let slowest = { ms: 0, input: "" };
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    for (let i = 0; i < INPUTS; i++) {
      const dockerfile = rand() < 0.5;
      const pool = dockerfile ? corpus.dockerfiles : corpus.words;
      const input = mutate(pool[Math.floor(rand() * pool.length)]!, pool[Math.floor(rand() * pool.length)]!, rand);
      let ms = check(dockerfile ? "dockerfile" : "word", input, crashes);
      // A slow input is timed again: one run can include a GC pause or JIT
      // work; a slow algorithm is slow every time.
      for (let again = 0; again < 2 && ms > SLOW_MS; again++) ms = Math.min(ms, check(dockerfile ? "dockerfile" : "word", input, []));
      if (ms > slowest.ms) slowest = { ms, input };
    }
    const total = performance.now() - started;
    const cpu = process.cpuUsage(cpuStarted);
    console.log(
      `fuzz: ${INPUTS} inputs (seed ${SEED}), ${crashes.length} crashes, slowest input ${slowest.ms.toFixed(1)} ms CPU, ` +
        `total ${(total / 1000).toFixed(1)} s (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU)`,
    );
    for (const c of crashes.slice(0, 5)) console.log(`  crash: ${c.error}\n    input: ${JSON.stringify(c.input).slice(0, 300)}`);
    expect(crashes).toEqual([]);
    expect(slowest.ms, `slowest input: ${JSON.stringify(slowest.input).slice(0, 300)}`).toBeLessThan(SLOW_MS);
  }, Math.max(600_000, INPUTS * 10));
});
