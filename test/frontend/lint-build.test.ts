// A normal build prints BuildKit's check warnings with file:line, and
// `# check=error=true` stops it before any step runs.
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("build checks during a build", () => {
  const ws = useWorkspace({ busybox: true, name: "lint" });

  it("warns and builds", async () => {
    await ws.writeContext({ Dockerfile: "FROM busybox:latest as Base\nCMD echo hi\n" });
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:1: FromAsCasing: 'as' and 'FROM' keywords' casing do not match$/m);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:1: StageNameCasing: Stage name 'Base' should be lowercase$/m);
    expect(r.stderr).toMatch(/^WARNING: .*Dockerfile:2: JSONArgsRecommended: /m);
  });

  it("check=error=true fails before any step, naming the rule and the line", async () => {
    await ws.writeContext({ Dockerfile: "# check=error=true\nFROM busybox:latest as base\nRUN touch /ran\n" });
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*Dockerfile:2: lint violation found for rules: FromAsCasing/m);
    expect(r.stderr).not.toMatch(/#1 /);
  });

  it("check=skip silences a rule", async () => {
    await ws.writeContext({ Dockerfile: "# check=skip=FromAsCasing,JSONArgsRecommended\nFROM busybox:latest as base\nCMD echo hi\n" });
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", ws.ctx]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
  });
});
