// One closed set of error codes (src/util/errors.ts KILN_ERROR_CODES):
// each documented in docs/errors.md, nothing documented that is not in it,
// and no KilnError constructed, nor a caught error's code compared, with a
// code outside it. The type system checks constructor arguments; this also
// catches codes in comparisons (`e.code === "PLATFORM_NOT_FUOND"`), which
// types do not, and any `as` cast that slips one past.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { KILN_ERROR_CODES } from "../../src/util/errors.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const KNOWN: ReadonlySet<string> = new Set(KILN_ERROR_CODES);

/** Codes that are not kiln's: Node's errno and ERR_* codes, undici's. */
const FOREIGN = /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+|UND_ERR_[A-Z_]+|(CONNECT|HEADERS|BODY)_TIMEOUT)$/;

async function sources(): Promise<[string, ts.SourceFile][]> {
  const out: [string, ts.SourceFile][] = [];
  for (const e of await readdir(path.join(ROOT, "src"), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith(".ts")) continue;
    const abs = path.join(e.parentPath, e.name);
    out.push([path.relative(ROOT, abs), ts.createSourceFile(abs, await readFile(abs, "utf8"), ts.ScriptTarget.Latest, true)]);
  }
  return out;
}

/** Every literal code used: first argument of `new KilnError(...)`, an error class's `code` field, and the other side of `x.code ===`. */
function codesUsed(file: string, sf: ts.SourceFile): { code: string; where: string }[] {
  const out: { code: string; where: string }[] = [];
  const at = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const literal = (n: ts.Node | undefined): string | undefined => (n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : undefined);
  const isCode = (n: ts.Node) => ts.isPropertyAccessExpression(n) && n.name.text === "code";
  const visit = (n: ts.Node): void => {
    if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "KilnError") {
      const c = literal(n.arguments?.[0]);
      if (c !== undefined) out.push({ code: c, where: at(n) });
    }
    // `readonly code = "X"` in an error class of its own (oci/ depends on
    // nothing, so its errors carry a literal that must be in the set).
    if (ts.isPropertyDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === "code") {
      const c = literal(n.initializer);
      if (c !== undefined && !FOREIGN.test(c)) out.push({ code: c, where: at(n) });
    }
    if (ts.isBinaryExpression(n) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(n.operatorToken.kind)) {
      const c = isCode(n.left) ? literal(n.right) : isCode(n.right) ? literal(n.left) : undefined;
      if (c !== undefined && !FOREIGN.test(c)) out.push({ code: c, where: at(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe("error codes", () => {
  it("are each documented in docs/errors.md, which documents no other", async () => {
    const doc = await readFile(path.join(ROOT, "docs/errors.md"), "utf8");
    const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(KILN_ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
    expect(documented.filter((c) => !KNOWN.has(c))).toEqual([]);
    expect(documented.length).toBe(new Set(documented).size);
  });

  it("are the only ones src/ constructs a KilnError with or compares an error's code to", async () => {
    const used = (await sources()).flatMap(([file, sf]) => codesUsed(file, sf));
    expect(used.length).toBeGreaterThan(300);
    expect(used.filter((u) => !KNOWN.has(u.code)).map((u) => `${u.where}: "${u.code}" is not a KilnErrorCode (src/util/errors.ts, docs/errors.md)`)).toEqual([]);
  });

  it("the scan sees a planted unknown code, in a constructor and in a comparison", () => {
    const sf = ts.createSourceFile("x.ts", 'throw new KilnError("NO_SUCH_CODE", "m");\nif (e.code === "PLATFORM_NOT_FUOND") {}\nif (e.code === "ENOENT") {}\n', ts.ScriptTarget.Latest, true);
    expect(codesUsed("x.ts", sf)).toEqual([
      { code: "NO_SUCH_CODE", where: "x.ts:1" },
      { code: "PLATFORM_NOT_FUOND", where: "x.ts:2" },
    ]);
  });
});
