// Glob patterns a hostile Dockerfile or .dockerignore controls (issue 14):
// a segment like `*a*a*a*a*a*a*a*a*a*a*b` made minimatch's backtracking
// RegExp take exponential time on a long file name (a 40-character name
// already took 1.3 s; 200 characters never finished). COPY sources, COPY
// --exclude and .dockerignore must match it in polynomial time.
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ignoreMatcher, parseDockerignore } from "../../src/context/dockerignore.js";
import { selectSources } from "../../src/context/select-sources.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const HOSTILE = "*a*a*a*a*a*a*a*a*a*a*b";
const LONG = "a".repeat(200);

describe("hostile glob patterns", () => {
  const ws = useWorkspace({ name: "hostile-glob", context: { [LONG]: "long\n", [`d/${LONG}`]: "deep\n", "f.txt": "data\n" } });

  it("a catastrophic-backtracking pattern as COPY source and .dockerignore line is matched in well under a second", async () => {
    const t0 = performance.now();
    const ignore = ignoreMatcher(parseDockerignore(`${HOSTILE}\n**/${HOSTILE}\n!${HOSTILE}x\n`));
    expect(ignore.ignores(LONG)).toBe(false);
    expect(ignore.ignores(`d/${LONG}`)).toBe(false);
    expect(await selectSources(ws.ctx, HOSTILE, ignore)).toEqual([]);
    expect(await selectSources(ws.ctx, `**/${HOSTILE}/**`, ignore)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it("a build with that pattern in COPY, COPY --exclude and .dockerignore finishes and copies what it should", async () => {
    await writeFile(path.join(ws.ctx, ".dockerignore"), `${HOSTILE}\n`);
    await writeFile(path.join(ws.ctx, "Dockerfile"), ["FROM scratch", `COPY f.txt ${HOSTILE} /one/`, `COPY --exclude=${HOSTILE} --exclude=**/${HOSTILE} . /all/`].join("\n"));
    const out = path.join(ws.work, "out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ws.ctx]);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.code).toBe(0);
    expect(await readdir(path.join(out, "one"))).toEqual(["f.txt"]);
    expect((await readdir(path.join(out, "all"))).sort()).toEqual([".dockerignore", "Dockerfile", LONG, "d", "f.txt"].sort());
  }, 20_000);
});
