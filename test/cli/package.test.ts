// The npm package as a user installs it: what `npm pack` puts in (one build
// of each module, no bench code, no tests, a LICENSE), and that the packed
// CLI and library run from it.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/kiln.js";

describe("the npm package", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds one build, no bench code or tests, the LICENSE and the docs; its CLI and library run", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kiln-pack-"));
    const [packed] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toContain("LICENSE");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("docs/build-flags.md");
    expect(files.filter((f) => /^dist\/(bundle|bench)\/|^test\/|^bench\/|\.map$/.test(f))).toEqual([]);
    const pkg = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { license: string };
    expect(pkg.license).toBe("Apache-2.0");
    expect(await readFile(path.join(REPO, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    execFileSync("tar", ["-xzf", path.join(dir, packed!.filename), "-C", dir]);
    const root = path.join(dir, "package");
    await symlink(path.join(REPO, "node_modules"), path.join(root, "node_modules"));
    expect(execFileSync("node", [path.join(root, "bin/kiln.js"), "--version"], { encoding: "utf8" })).toMatch(/^kiln version /);
    const api = execFileSync("node", ["--input-type=module", "-e", `const k = await import(${JSON.stringify(path.join(root, "dist/index.js"))}); console.log(typeof k.build, typeof k.Store)`], { encoding: "utf8" });
    expect(api).toBe("function function\n");
    // The README documents the library API it exports.
    expect(await readFile(path.join(REPO, "README.md"), "utf8")).toMatch(/## Library API[\s\S]*import \{ build, Store \} from "kiln"/);
  });
});
