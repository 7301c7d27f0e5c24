// Progress names as BuildKit prints them: only filesystem steps, numbered
// per stage with the stage's name, and log times counted from the step's start.
import { describe, expect, it } from "vitest";
import { StageStepNames, stageLabel } from "../../src/build/step-names.js";
import { useWorkspace } from "../helpers/workspace.js";
import { buildIn } from "../frontend/helpers.js";

describe("step names", () => {
  const ws = useWorkspace({ busybox: true, name: "stepnames" });

  it("a multi-stage build names each stage's steps [stage n/total]; config-only instructions are not steps", async () => {
    const df = [
      "FROM busybox:latest AS base",
      "ENV X=1",
      "WORKDIR /out",
      'RUN echo "base" > base',
      "FROM scratch",
      "LABEL a=b",
      "COPY --from=base --chmod=0644 /out /out",
    ].join("\n");
    const r = await buildIn(ws.root, ws.work, "multi", df);
    expect(r.code, r.stderr).toBe(0);
    const names = r.stderr.split("\n").filter((l) => /^#\d+ \[/.test(l)).map((l) => l.replace(/^#\d+ /, ""));
    expect(names).toEqual([
      "[base 1/3] FROM busybox:latest",
      "[base 2/3] WORKDIR /out",
      '[base 3/3] RUN echo "base" > base',
      "[stage-1 1/1] COPY --from=base --chmod=0644 /out /out",
    ]);
    expect(r.stderr).not.toMatch(/ENV X=1|LABEL a=b/);
  });

  it("a RUN's output lines carry the time since that step started", async () => {
    const df = ["FROM busybox:latest", "RUN sleep 1.5 && echo one > /one", "RUN echo two"].join("\n");
    const r = await buildIn(ws.root, ws.work, "times", df);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stderr.split("\n").find((l) => /^#\d+ [\d.]+ two$/.test(l));
    expect(line).toMatch(/^#3 \d+\.\d{3} two$/);
    expect(Number(line!.split(" ")[1])).toBeLessThan(1.5);
  });

  it("numbers are right-aligned to the total's width; the platform comes first; one stage has no label", () => {
    const n = new StageStepNames({ platformLabel: "linux/arm64", stageLabel: "base", total: 12 });
    expect(n.next("FROM busybox")).toBe("[linux/arm64 base  1/12] FROM busybox");
    expect(stageLabel({ index: 0 }, 1)).toBeUndefined();
    expect(stageLabel({ index: 1 }, 2)).toBe("stage-1");
    expect(stageLabel({ index: 0, name: "base" }, 2)).toBe("base");
  });
});
