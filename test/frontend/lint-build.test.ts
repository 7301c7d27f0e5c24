// A normal build prints BuildKit's check warnings with file:line, and
// `# check=error=true` stops it before any step runs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";

describe("build checks during a build", () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = await storeWithBusybox();
    dir = await mkdtemp(path.join(tmpdir(), "kiln-lint-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it("warns and builds", async () => {
    await writeFile(path.join(dir, "Dockerfile"), "FROM busybox:latest as Base\nCMD echo hi\n");
    const r = await kiln(["--root", root, "build", "--progress", "plain", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:1: FromAsCasing: 'as' and 'FROM' keywords' casing do not match$/m);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:1: StageNameCasing: Stage name 'Base' should be lowercase$/m);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:2: JSONArgsRecommended: /m);
  });

  it("check=error=true fails before any step, naming the rule and the line", async () => {
    await writeFile(path.join(dir, "Dockerfile"), "# check=error=true\nFROM busybox:latest as base\nRUN touch /ran\n");
    const r = await kiln(["--root", root, "build", "--progress", "plain", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*Dockerfile:2: lint violation found for rules: FromAsCasing/m);
    expect(r.stderr).not.toMatch(/#1 /);
  });

  it("check=skip silences a rule", async () => {
    await writeFile(path.join(dir, "Dockerfile"), "# check=skip=FromAsCasing,JSONArgsRecommended\nFROM busybox:latest as base\nCMD echo hi\n");
    const r = await kiln(["--root", root, "build", "--progress", "plain", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
  });
});
