import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { chompHeredoc } from "../../src/dockerfile/heredoc.js";
import { parseDockerfile } from "../../src/dockerfile/index.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import { parseWords } from "../../src/dockerfile/words.js";

// BuildKit's parser vectors that concern typed instructions (README
// section 6: heredocs, JSON form, parseWords, name=value, directives). The
// AST dump golden files (section 1) are not run here yet.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const inline = path.resolve(repoRoot, "../shared/conformance/buildkit/inline");
const present = existsSync(inline);
if (!present) console.log(`conformance vectors not found at ${inline}: skipping parser conformance`);
const suite = present ? describe : describe.skip;

function load(name: string): any {
  return JSON.parse(readFileSync(path.join(inline, name), "utf8"));
}

suite("BuildKit parser conformance (inline vectors)", () => {
  it("heredoc/Dockerfile: heredocs attached to each instruction", () => {
    const text = readFileSync(path.join(inline, "heredoc/Dockerfile"), "utf8");
    const expected = JSON.parse(readFileSync(path.join(inline, "heredoc/expected.json"), "utf8")) as {
      children: { child: number; heredocs: { Name: string; FileDescriptor: number; Expand: boolean; Chomp: boolean; Content: string }[] | null }[];
    };
    const { instructions } = scanDockerfile(text, "Dockerfile");
    let passed = 0;
    const failures: string[] = [];
    for (const c of expected.children) {
      const got = instructions[c.child]?.heredocs ?? [];
      const want = (c.heredocs ?? []).map((h) => ({
        name: h.Name,
        content: h.Chomp ? chompHeredoc(h.Content) : h.Content,
        expand: h.Expand,
        chomp: h.Chomp,
        ...(h.FileDescriptor !== 0 ? { fileDescriptor: h.FileDescriptor } : {}),
      }));
      if (JSON.stringify(got) === JSON.stringify(want)) passed++;
      else failures.push(`child ${c.child}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
    }
    console.log(`heredoc children: ${passed} passed, ${failures.length} failed`);
    for (const f of failures) console.log(`  FAIL ${f}`);
    // children are numbered from 1: child 0 is the FROM.
    expect(instructions.length).toBe(expected.children.length + 1);
    expect(failures).toEqual([]);
  });

  it("heredoc-misc.json: JSON form has no heredocs; chomp", () => {
    const misc = load("heredoc-misc.json");
    const d = parseDockerfile(misc.jsonFormHasNoHeredoc.dockerfile);
    for (const ins of d.stages[0]?.instructions ?? []) expect(ins).not.toHaveProperty("heredocs");
    expect(chompHeredoc(misc.chomp.input)).toBe(misc.chomp.expected);
  });

  it("parser-misc.json: parseWords, JSON arrays, name=value, directives", () => {
    const misc = load("parser-misc.json");
    for (const c of misc.parseWords.cases) expect(parseWords(c.input, "\\")).toEqual(c.expected);
    for (const c of misc.jsonArrays.valid) {
      expect(parseDockerfile(`FROM a\nCMD ${c.input}\n`).stages[0]?.instructions[0]).toMatchObject({ form: "exec", args: c.expected });
    }
    for (const input of misc.jsonArrays.invalid) {
      expect(() => parseDockerfile(`FROM a\nCMD ${input}\n`)).toThrow(/array of strings/);
    }
    for (const c of misc.nameVal.cases) {
      const text = `FROM a\n${c.keyword} ${c.input}\n`;
      if (c.expectError) {
        expect(() => parseDockerfile(text)).toThrow();
        continue;
      }
      // The dump lists key, value, separator triples.
      const ins = parseDockerfile(text).stages[0]?.instructions[0] as { pairs: { key: string; value: string }[] };
      const flat: string[] = [];
      for (const p of ins.pairs) flat.push(p.key, p.value, c.input.includes("=") ? "=" : "");
      expect(flat).toEqual(c.expected);
    }
    for (const c of misc.directives.parseAll) {
      const d = parseDockerfile(`${c.input}FROM a\n`);
      expect(d.directives.escape).toBe(c.expected[0].value);
    }
  });
});
