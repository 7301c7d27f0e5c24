// Dependencies point down (DESIGN.md): no cycle between folders of src/, no
// import from a folder in a higher layer, and the pure folders (oci/,
// dockerfile/, tar/, plan/) reach no I/O module. The rules and the layer
// order are in import-rules.ts; the second block plants each kind of
// violation to show the check reports it.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkImports, importsOf } from "./import-rules.js";

const SRC = path.resolve(import.meta.dirname, "../../src");

async function srcModules(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(SRC, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith(".ts")) continue;
    const abs = path.join(e.parentPath, e.name);
    out.set(path.relative(SRC, abs).split(path.sep).join("/"), await readFile(abs, "utf8"));
  }
  return out;
}

describe("src/ import direction", () => {
  it("has no folder cycle, no upward import and no I/O in pure folders", async () => {
    const modules = await srcModules();
    expect(modules.size).toBeGreaterThan(100);
    expect(checkImports(modules)).toEqual([]);
  });
});

describe("the check itself", () => {
  const ok = new Map([
    ["util/errors.ts", "export class KilnError extends Error {}\n"],
    ["oci/digest.ts", 'import { createHash } from "node:crypto";\nimport { KilnError } from "../util/errors.js";\n'],
    ["store/store.ts", 'import { mkdir } from "node:fs/promises";\nimport type { Digest } from "../oci/digest.js";\n'],
    ["cache/records.ts", 'import { Store } from "../store/store.js";\n'],
  ]);

  it("passes a tree whose imports point down", () => {
    expect(checkImports(ok)).toEqual([]);
  });

  it("names importer, imported module and rule for an upward import, and reports the cycle it makes", () => {
    const bad = new Map(ok).set("store/gc.ts", 'import type { StepRecords } from "../cache/records.js";\n');
    const problems = checkImports(bad);
    expect(problems).toContainEqual(expect.stringMatching(/^src\/store\/gc\.ts:1 imports src\/cache\/records\.ts: cache\/ \(layer \d+\) is not below store\/ \(layer \d+\)/));
    expect(problems).toContainEqual(expect.stringMatching(/^cycle between folders cache, store: .*src\/store\/gc\.ts:1 imports src\/cache\/records\.ts/));
  });

  it("counts dynamic import() and type-only re-exports", () => {
    const dyn = new Map(ok).set("oci/platform.ts", 'export async function f() { return import("../store/store.js"); }\n');
    expect(checkImports(dyn).join("\n")).toMatch(/src\/oci\/platform\.ts:1 imports src\/store\/store\.ts/);
    const reexport = new Map(ok).set("util/x.ts", 'export type { Digest } from "../oci/digest.js";\n');
    expect(checkImports(reexport).join("\n")).toMatch(/src\/util\/x\.ts:1 imports src\/oci\/digest\.ts/);
  });

  it("finds I/O reached from a pure folder through a value import, not through a type import", () => {
    const io = new Map(ok).set("util/read.ts", 'import { readFile } from "node:fs/promises";\n').set("oci/config.ts", 'import { x } from "../util/read.js";\n');
    expect(checkImports(io)).toEqual(["src/oci/config.ts:1 -> src/util/read.ts:1 -> node:fs/promises: oci/ is pure (no file, process or network I/O, DESIGN.md)"]);
    const typeOnly = new Map(io).set("oci/config.ts", 'import type { x } from "../util/read.js";\n');
    expect(checkImports(typeOnly)).toEqual([]);
  });

  it("reports a folder that no layer lists", () => {
    expect(checkImports(new Map(ok).set("newthing/a.ts", ""))).toContainEqual(expect.stringMatching(/^src\/newthing: in no layer/));
  });

  it("reads every kind of import with its line", () => {
    const text = ['import a from "./a.js";', 'import { type B } from "../b/b.js";', 'export * from "./c.js";', 'const d = await import("../d/d.js");', "type E = typeof import('./e.js');"].join("\n");
    expect(importsOf("x/m.ts", text).map((e) => [e.to, e.typeOnly, e.line])).toEqual([
      ["x/a.ts", false, 1],
      ["b/b.ts", true, 2],
      ["x/c.ts", false, 3],
      ["d/d.ts", false, 4],
      ["x/e.ts", true, 5],
    ]);
  });
});
