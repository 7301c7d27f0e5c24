// Build checks: BuildKit's rule names, messages and lines; the check=
// directive; `kiln build --check` output and exit code.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDockerfile, formatWarning } from "../../src/dockerfile/checks.js";
import { parseDockerfile } from "../../src/dockerfile/parse.js";
import { kiln } from "../helpers/kiln.js";

function lint(text: string) {
  const df = parseDockerfile(text, "Dockerfile", { allowDuplicateStageNames: true });
  return checkDockerfile(df, text).map((w) => `${w.rule}:${w.location.line}: ${w.message}`);
}

describe("build checks", () => {
  it("reports each rule with BuildKit's message at the right line", () => {
    const text = [
      "FROM busybox AS Base", // 1 StageNameCasing
      "MAINTAINER someone", // 2
      "CMD echo one", // 3
      "CMD [\"echo\", \"two\"]", // 4
      "WORKDIR app", // 5
      "ENV A=$UNSET_X", // 6
      "from base as next", // 7 ConsistentInstructionCasing
      "FROM busybox as dup", // 8 FromAsCasing
      "ENTRYPOINT run.sh", // 9
      "FROM busybox AS dup", // 10 DuplicateStageName
      "ARG V=1",
      "COPY $V /$VV/", // 12 UndefinedVar VV
      "HEALTHCHECK NONE",
      "HEALTHCHECK NONE", // MultipleInstructionsDisallowed at 13
    ].join("\n");
    const got = lint(text);
    expect(got).toEqual([
      "StageNameCasing:1: Stage name 'Base' should be lowercase",
      "MaintainerDeprecated:2: Maintainer instruction is deprecated in favor of using label",
      "JSONArgsRecommended:3: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
      "MultipleInstructionsDisallowed:3: Multiple CMD instructions should not be used in the same stage because only the last one will be used",
      "WorkdirRelativePath:5: Relative workdir \"app\" can have unexpected results if the base image changes",
      "UndefinedVar:6: Usage of undefined variable '$UNSET_X'",
      "ConsistentInstructionCasing:7: Command 'from' should match the case of the command majority (uppercase)",
      "FromAsCasing:8: 'as' and 'FROM' keywords' casing do not match",
      "JSONArgsRecommended:9: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
      "DuplicateStageName:10: Duplicate stage name \"dup\", stage names should be unique",
      "UndefinedVar:12: Usage of undefined variable '$VV'",
      "MultipleInstructionsDisallowed:13: Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used",
    ]);
  });

  it("no false positives: ENV/ARG defined before use, predefined args, variable workdir, exec form", () => {
    expect(
      lint(["ARG BASE=busybox", "FROM $BASE", "ARG X", "ENV A=1 B=$A", "WORKDIR $A/x", "COPY $X /$TARGETARCH/", "CMD [\"sh\"]"].join("\n")),
    ).toEqual([]);
  });

  it("suggests a defined name that differs in case", () => {
    expect(lint(["FROM busybox", "ARG foo", "ENV X=$FOO"].join("\n"))).toEqual([
      "UndefinedVar:3: Usage of undefined variable '$FOO' (did you mean $foo?)",
    ]);
  });

  it("# check=skip=... silences rules; skip=all silences everything", () => {
    const body = ["FROM busybox", "MAINTAINER x", "CMD echo"].join("\n");
    expect(lint(`# check=skip=MaintainerDeprecated\n${body}`).map((l) => l.split(":")[0])).toEqual(["JSONArgsRecommended"]);
    expect(lint(`# check=skip=MaintainerDeprecated,JSONArgsRecommended\n${body}`)).toEqual([]);
    expect(lint(`# check=skip=all\n${body}`)).toEqual([]);
  });

  it("formats warnings as BuildKit prints them", () => {
    const df = parseDockerfile("FROM busybox\nCMD echo\n", "Dockerfile");
    expect(formatWarning(checkDockerfile(df, "")[0]!)).toBe(
      "WARNING: JSONArgsRecommended - Dockerfile:2: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
    );
  });

  describe("kiln build --check", () => {
    let work: string;
    let root: string;
    beforeAll(async () => {
      work = await mkdtemp(path.join(tmpdir(), "kiln-check-"));
      root = path.join(work, "store");
    });
    afterAll(async () => rm(work, { recursive: true, force: true }));

    async function check(name: string, dockerfile: string) {
      const ctx = path.join(work, name);
      await mkdir(ctx, { recursive: true });
      await writeFile(path.join(ctx, "Dockerfile"), dockerfile);
      return kiln(["--root", root, "build", "--check", "-f", path.join(ctx, "Dockerfile"), ctx]);
    }

    it("prints warnings and exits 1 without error=true, as buildx --check", async () => {
      const r = await check("warn", "FROM busybox\nCMD echo hi\n");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Check complete, 1 warning has been found!/);
      expect(r.stderr).toMatch(/^WARNING: JSONArgsRecommended - .*Dockerfile:2: JSON arguments recommended for CMD/m);
    });

    it("exits non-zero with check=error=true and a warning", async () => {
      const r = await check("error", "# check=error=true\nFROM busybox\nMAINTAINER me\n");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/WARNING: MaintainerDeprecated - .*Dockerfile:3:/);
      expect(r.stderr).toMatch(/lint violation found for rules: MaintainerDeprecated/);
    });

    it("exits 0 with check=error=true and a clean file; never builds (no base image needed)", async () => {
      const r = await check("clean", "# check=error=true\nFROM nothing-here:1\nCMD [\"true\"]\n");
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/no warnings found/);
    });
  });
});

describe("lintForBuild", () => {
  it("warnings only, unless check=error=true", async () => {
    const { lintForBuild } = await import("../../src/dockerfile/checks.js");
    const plain = parseDockerfile("FROM busybox\nCMD echo\n");
    expect(lintForBuild(plain, "").warnings).toHaveLength(1);
    expect(lintForBuild(plain, "").error).toBeUndefined();
    const strict = parseDockerfile("# check=error=true\nFROM busybox\nCMD echo\n");
    const r = lintForBuild(strict, "");
    expect(r.error?.message).toBe("lint violation found for rules: JSONArgsRecommended");
    expect(r.error?.location?.line).toBe(3);
  });
});
