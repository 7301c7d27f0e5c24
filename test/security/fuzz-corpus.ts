// The fuzz test's corpus and mutator: BuildKit's parser Dockerfiles and
// shell-lexer vectors (../shared/conformance/buildkit), mutated with a
// fixed-seed PRNG so that every run, and every failure, is reproducible.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO } from "../helpers/kiln.js";

export const VECTORS = path.resolve(REPO, "../shared/conformance/buildkit");

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Corpus {
  readonly dockerfiles: readonly string[];
  /** Words for the expander, with the variables BuildKit's tests give them. */
  readonly words: readonly string[];
}

/** Throws (a failing test, not a skip) when the vectors are missing. */
export function loadCorpus(): Corpus {
  if (!existsSync(VECTORS)) throw new Error(`BuildKit vectors not found at ${VECTORS}: the fuzz test needs them`);
  const dockerfiles: string[] = [];
  for (const dir of ["parser/testfiles", "parser/testfiles-negative"]) {
    for (const name of readdirSync(path.join(VECTORS, dir))) dockerfiles.push(readFileSync(path.join(VECTORS, dir, name, "Dockerfile"), "utf8"));
  }
  dockerfiles.push(readFileSync(path.join(VECTORS, "parser/testfile-line/Dockerfile"), "utf8"));
  dockerfiles.push(readFileSync(path.join(VECTORS, "inline/heredoc/Dockerfile"), "utf8"));
  const words: string[] = [];
  for (const file of ["shell/envVarTest", "shell/wordsTest"]) {
    for (const line of readFileSync(path.join(VECTORS, file), "utf8").split("\n")) {
      if (line.startsWith("#") || line.startsWith("ENV ") || !line.includes("|")) continue;
      const fields = line.split("|");
      words.push((fields.length === 3 ? fields[1]! : fields[0]!).trim());
    }
  }
  const inline = JSON.parse(readFileSync(path.join(VECTORS, "inline/shell-expansion.json"), "utf8")) as Record<string, unknown>;
  for (const list of Object.values(inline)) {
    if (!Array.isArray(list)) continue;
    for (const v of list as { input?: unknown }[]) if (typeof v.input === "string") words.push(v.input);
  }
  return { dockerfiles, words };
}

// What a mutation inserts: the characters and tokens the lexer and parser
// give meaning to, plus some that break encodings and regexps.
const TOKENS = [
  "$", "{", "}", "${", "${A", ":-", ":+", ":?", "#", "##", "%", "%%", "/", "//", "*", "?", "-", "[", "]", "(", ")", "|", "^", ".",
  "\\", "`", '"', "'", " ", "\t", "\n", "\r\n", "\\\n", "<<EOF\n", "<<-EOF\n", "<<'EOF'\n", "EOF\n", "[\"", "\"]", ",", "=", ":",
  "\u0000", "\u00e9", "\ud83d\ude00", "\ud800", "\u2028", "# escape=`\n", "# syntax=x\n", "# check=error=true\n", "--mount=", "--from=",
  "FROM ", "ARG ", "ENV ", "RUN ", "ONBUILD ", "COPY ", "ADD ", "HEALTHCHECK ", "SHELL ", "USER ", "LABEL ", "EXPOSE ", "CMD ", "AS ",
];

/** One mutant of `input`: a few random edits (insert a token, delete, duplicate, or splice from `other`). */
export function mutate(input: string, other: string, rand: () => number): string {
  let s = input;
  const pick = (n: number) => Math.floor(rand() * n);
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    const at = pick(s.length + 1);
    switch (pick(6)) {
      case 0:
      case 1:
        s = s.slice(0, at) + TOKENS[pick(TOKENS.length)]! + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + pick(8));
        break;
      case 3: {
        const len = 1 + pick(24);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + pick(4)) + s.slice(at);
        break;
      }
      case 4: {
        const from = pick(other.length + 1);
        s = s.slice(0, at) + other.slice(from, from + 1 + pick(60)) + s.slice(at);
        break;
      }
      default: {
        // Nest or repeat a substitution: depth and length are what hostile input scales.
        const n = 1 + pick(150);
        s = s.slice(0, at) + (rand() < 0.5 ? "${A:-".repeat(n) + "x" + "}".repeat(n) : "*a".repeat(n)) + s.slice(at);
      }
    }
  }
  return s;
}
