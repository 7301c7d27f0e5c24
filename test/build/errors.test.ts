// Bad input: one clear line naming file:line, a non-zero exit, and a store
// left exactly as it was (no ref, no half-made snapshot, no temp files).
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { hostileTar } from "../helpers/hostile-tar.js";
import { useWorkspace } from "../helpers/workspace.js";

const ERRORS = path.join(REPO, "testdata/errors");

async function storeState(root: string) {
  const index = await readFile(path.join(root, "index.json"), "utf8");
  const snapshots = (await readdir(path.join(root, "snapshots"))).sort();
  const tmp = await readdir(path.join(root, "tmp"));
  return { index: createHash("sha256").update(index).digest("hex"), snapshots, tmp };
}

describe("bad input", () => {
  const ws = useWorkspace({ busybox: true });

  const cases: [string, RegExp][] = [
    ["unknown-instruction", /^error: .*unknown-instruction\.Dockerfile:2: unknown instruction: RUNN.*did you mean RUN\?/m],
    ["missing-source", /^error: .*missing-source\.Dockerfile:2: "missing\.txt" not found in the build context/m],
    ["run-fails", /^error: .*run-fails\.Dockerfile:3: process "\/bin\/sh -c echo failing && exit 3" did not complete successfully: exit code 3/m],
    // A registry on a closed loopback port: the pull fails at once, the same way everywhere, without reaching out.
    ["missing-base", /^error: .*missing-base\.Dockerfile:1: base image "127\.0\.0\.1:1\/nothere:1" is not in the local store, and pulling it failed: .*127\.0\.0\.1:1.*cannot connect.*ECONNREFUSED/m],
  ];
  for (const [name, want] of cases) {
    it(`${name}: clear error, non-zero exit, store untouched`, async () => {
      const before = await storeState(ws.root);
      const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", `bad-${name}:1`, "-f", path.join(ERRORS, `${name}.Dockerfile`), ERRORS]);
      expect(r.stderr).toMatch(want);
      expect(r.code).toBe(1);
      const after = await storeState(ws.root);
      expect(after.index).toBe(before.index);
      expect(after.tmp).toEqual([]);
      // A failed step leaves no half-committed snapshot behind.
      expect(after.snapshots.filter((s) => s.startsWith(".new-"))).toEqual([]);
    });
  }

  it("run-fails shows the failing command's own output", async () => {
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "-f", path.join(ERRORS, "run-fails.Dockerfile"), ERRORS]);
    expect(r.stderr).toMatch(/#3 [\d.]+ failing\n/);
    expect(r.stderr).toMatch(/#3 ERROR/);
  });

  it("no OCI runtime: says which is missing and how to install it", async () => {
    const r = await kiln(["--root", ws.root, "build", "--no-cache", "-f", path.join(ERRORS, "run-fails.Dockerfile"), ERRORS], { PATH: "/nonexistent" });
    expect(r.stderr).toMatch(/^error: .*run-fails\.Dockerfile:2: .*no OCI runtime found: "runc" is not on PATH|^error: no OCI runtime found: "runc" is not on PATH/m);
    expect(r.stderr).toMatch(/apt-get install runc/);
    expect(r.code).toBe(1);
  });

  it("a hostile base layer is refused on import and writes nothing outside the store", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "kiln-hostile-"));
    const before = await storeState(ws.root);
    const victim = path.join(dir, "victim");
    await writeFile(path.join(dir, "hostile.tar"), await hostileTar([{ name: `../../../../../../../..${victim}`, content: "pwned" }]));
    const r = await kiln(["--root", ws.root, "import", path.join(dir, "hostile.tar"), "evil:1"]);
    expect(r.stderr).toMatch(/^error: .*(escape|outside|hostile|\.\.)/im);
    expect(r.code).toBe(1);
    await expect(readFile(victim)).rejects.toThrow(/ENOENT/);
    const after = await storeState(ws.root);
    expect(after.index).toBe(before.index);
    expect(after.snapshots).toEqual(before.snapshots);
    await rm(dir, { recursive: true, force: true });
  });

  it("unknown command and bad flags exit 2 with a pointer to help", async () => {
    const r = await kiln(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    const b = await kiln(["--root", ws.root, "build", "--network", "bridge", "."]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--network must be default, host, none or slirp4netns/);
  });
});
