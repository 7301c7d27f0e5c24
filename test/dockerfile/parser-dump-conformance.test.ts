import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dumpDockerfile } from "../../src/dockerfile/dump.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";

// BuildKit's parser golden files (README sections 1-3): kiln's line-level
// parse, dumped in BuildKit's AST format, must match byte for byte.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const parserDir = path.resolve(repoRoot, "../shared/conformance/buildkit/parser");
const present = existsSync(parserDir);
if (!present) console.log(`conformance vectors not found at ${parserDir}: skipping parser dump conformance`);
const suite = present ? describe : describe.skip;

suite("BuildKit parser conformance (AST dump)", () => {
  it("parser/testfiles", () => {
    const dir = path.join(parserDir, "testfiles");
    const failures: string[] = [];
    const names = readdirSync(dir);
    for (const name of names) {
      const src = readFileSync(path.join(dir, name, "Dockerfile"), "utf8");
      const want = readFileSync(path.join(dir, name, "result"), "utf8");
      let got: string;
      try {
        got = dumpDockerfile(src) + "\n";
      } catch (e) {
        got = `error: ${String(e)}`;
      }
      if (got !== want) failures.push(`${name}\n--- want\n${want}--- got\n${got}`);
    }
    console.log(`parser/testfiles: ${names.length - failures.length} passed, ${failures.length} failed`);
    for (const f of failures) console.log(`  FAIL ${f}`);
    expect(names.length).toBe(33);
    expect(failures).toEqual([]);
  });

  it("parser/testfiles-negative", () => {
    const dir = path.join(parserDir, "testfiles-negative");
    const names = readdirSync(dir);
    let passed = 0;
    for (const name of names) {
      const src = readFileSync(path.join(dir, name, "Dockerfile"), "utf8");
      let failedToParse = false;
      try {
        dumpDockerfile(src);
      } catch {
        failedToParse = true;
      }
      if (failedToParse) passed++;
      else console.log(`  FAIL ${name}: parsed without error`);
    }
    console.log(`parser/testfiles-negative: ${passed} passed, ${names.length - passed} failed`);
    expect(passed).toBe(4);
  });

  it("parser/testfile-line: instruction spans", () => {
    const src = readFileSync(path.join(parserDir, "testfile-line/Dockerfile"), "utf8");
    const spans = scanDockerfile(src, "Dockerfile").instructions.map((i) => [i.location.line, i.endLine]);
    expect(spans).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });

  it("README 1.5: behaviour outside the golden files", () => {
    const cases: [string, string][] = [
      ["FOO bar baz", '(foo "")'],
      ["ONBUILD", "(onbuild)"],
      ["ENV", "(env)"],
      ["ARG", "(arg)"],
      ['RUN ["a"] b', '(run "[\\"a\\"] b")'],
      ["   run   x  ", '(run "x")'],
      ["HEALTHCHECK --interval=5s", '(healthcheck ["--interval=5s"])'],
      ["MAINTAINER  foo  bar ", '(maintainer "foo  bar")'],
      ["ONBUILD RUN <<EOF\nhi\nEOF", '(onbuild (run "<<EOF"))'],
      ["COPY --chmod=755 <<-E1 /x\n\tfoo\n\tE1", '(copy ["--chmod=755"] "<<-E1" "/x")'],
      ["RUN b \\\r\n c\r", '(run "b  c")'],
      ["EXPOSE 80\tx\vy", '(expose "80" "x" "y")'],
    ];
    for (const [body, want] of cases) {
      expect(dumpDockerfile(`FROM a\n${body}\n`)).toBe(`(from "a")\n${want}`);
    }
    for (const body of ["LABEL a", 'CMD ["a", 1]', "RUN <<EOF"]) {
      expect(() => dumpDockerfile(`FROM a\n${body}\n`)).toThrow();
    }
    expect(dumpDockerfile("  # escape=`\nFROM a\nRUN x `\n y\n")).toBe('(from "a")\n(run "x  y")');
    expect(dumpDockerfile("\n# escape=`\nFROM a\nRUN x `\n")).toBe('(from "a")\n(run "x `")');
    expect(() => dumpDockerfile("# escape=`\n# escape=`\nFROM a\n")).toThrow(/only one escape/);
    expect(() => dumpDockerfile("# escape=x\nFROM a\n")).toThrow(/invalid escape token/);
  });

  it("parser-misc.json lineTooLong", () => {
    const misc = JSON.parse(readFileSync(path.join(parserDir, "../inline/parser-misc.json"), "utf8"));
    const c = misc.lineTooLong;
    const text = c.prefix + c.repeatChar.repeat(c.repeatCount) + c.suffix;
    expect(() => dumpDockerfile(text)).toThrow(c.expectError);
  });
});
