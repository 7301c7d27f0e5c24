// Hostile ${...} expressions in a Dockerfile: each gives the value BuildKit
// gives, or a clear typed error with the Dockerfile's file:line — never a
// regexp SyntaxError, a minutes-long backtrack or a stack overflow.
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expandWord } from "../../src/dockerfile/expand.js";
import { KilnError } from "../../src/util/errors.js";
import { requireBuilt } from "../helpers/bin.js";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const vars = (env: Record<string, string>) => (n: string) => env[n];

describe("shell patterns", () => {
  it("a '-' (or any regexp metacharacter) in a pattern is a plain character: ${V%-*}", () => {
    expect(expandWord("${V%-*}", vars({ V: "1.2-rc1" }))).toBe("1.2");
    expect(expandWord("${V##*-}", vars({ V: "a-b-c" }))).toBe("c");
    expect(expandWord("${V//[a-z]/x}", vars({ V: "[a-z]1[a-z]" }))).toBe("x1x");
    expect(expandWord("${V/(/<}", vars({ V: "f(x)" }))).toBe("f<x)");
  });

  it("an invalid escape in a pattern is a typed error, not a crash", () => {
    expect(() => expandWord("${V#\\q}", vars({ V: "x" }))).toThrow(KilnError);
    expect(() => expandWord("${V#\\q}", vars({ V: "x" }))).toThrow(/invalid escape/);
  });

  it("pattern matching takes linear time: ${A##*a*a*a*a*b} on a long value (was minutes of backtracking)", async () => {
    await requireBuilt("src/dockerfile/shell-pattern.ts", "src/dockerfile/expand.ts");
    // In a child process, so that a regression is killed by the timeout
    // instead of hanging the test run.
    const script = `
      import { expandWord } from ${JSON.stringify(path.join(REPO, "dist/dockerfile/expand.js"))};
      const cases = [["\${A##*a*a*a*a*b}", "a".repeat(200)], ["\${A%%*a*a*a*a*a*a*a*a*b}", "a".repeat(5000)], ["\${A//*a*a*a*a*b/x}", "a".repeat(2000)]];
      let slowest = 0;
      for (const [word, value] of cases) {
        const t = performance.now();
        const out = expandWord(word, () => value);
        if (out !== value) throw new Error("changed " + word);
        slowest = Math.max(slowest, performance.now() - t);
      }
      console.log(slowest);`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(r.signal, "the expansion did not finish within 20 s").toBeNull();
    expect(r.stderr).toBe("");
    expect(Number(r.stdout)).toBeLessThan(1000);
  });
});

describe("nesting depth", () => {
  const ws = useWorkspace({ name: "nesting" });
  const deep = (n: number) => `${"${A:-".repeat(n)}x${"}".repeat(n)}`;

  it("2,000-deep ${A:-${A:-...}} is a typed error, not a stack overflow", () => {
    expect(() => expandWord(deep(2000), vars({}))).toThrow(/nested more than 100 deep/);
    expect(expandWord(deep(100), vars({}))).toBe("x");
  });

  it("the build reports it with the Dockerfile's file:line and exit 1", async () => {
    await writeFile(path.join(ws.ctx, "Dockerfile"), `FROM scratch\nENV B=${deep(2000)}\n`);
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
    expect(r.stderr).toMatch(/Dockerfile:2: substitutions nested more than 100 deep/);
    expect(r.code).toBe(1);
  });

  it("a bad expansion in a global ARG default or a FROM name names its file:line too", async () => {
    for (const [dockerfile, line] of [["ARG X=${A:-\"}\nFROM scratch\n", 1], ["FROM scratch${A\n", 1], ['ARG P=linux\nFROM --platform=${P scratch\n', 2]] as const) {
      await writeFile(path.join(ws.ctx, "Dockerfile"), dockerfile);
      const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
      expect(r.stderr).toMatch(new RegExp(`Dockerfile:${line}: (unexpected end of statement|syntax error)`));
      expect(r.code).toBe(1);
    }
  });

  it("an ARG named with regexp metacharacters does not crash a later COPY's cache key", async () => {
    await writeFile(path.join(ws.ctx, "Dockerfile"), "FROM scratch\nARG a(b=1 c[d=2 e*=3\nCOPY Dockerfile /x\n");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
    expect(r.stderr).not.toMatch(/internal|SyntaxError/);
    expect(r.code).toBe(0);
  });
});
