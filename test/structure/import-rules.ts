// The import rules of src/ (DESIGN.md: "dependencies point down"), checked
// the way go-containerregistry's depcheck does: every import of every
// module is read with the TypeScript compiler API (static imports,
// re-exports, `import type`, and dynamic import() with a literal), each
// module is mapped to its folder, and a folder may import only from the
// folders in layers below its own. Kept apart from the test so the test can
// also plant violations and see them reported.
import path from "node:path";
import ts from "typescript";

/**
 * Folders of src/, bottom first; a folder imports only from lower rows.
 * Files at the top of src/ count as a folder of their own name
 * (version.ts -> "version", index.ts -> "index").
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["util", "version"],
  // Pure: no I/O (see IO_MODULES), reached by value imports or not.
  ["oci", "dockerfile", "tar"],
  ["fsutil"],
  ["context", "rootless"],
  ["store"],
  ["snapshot", "exec"],
  ["registry"],
  ["export"],
  ["image", "plan"],
  ["cache"],
  ["steps"],
  ["attest", "import", "images"],
  ["build"],
  ["cli"],
  ["index", "bench"],
];

/** Folders whose modules must not do I/O, directly or through what they import by value. */
export const PURE: ReadonlySet<string> = new Set(["oci", "dockerfile", "tar", "plan"]);

/** Modules that touch files, processes or the network. */
export const IO_MODULES: ReadonlySet<string> = new Set(
  ["fs", "fs/promises", "child_process", "net", "http", "https", "http2", "dgram", "dns", "dns/promises", "tls", "worker_threads", "cluster", "readline", "inspector"]
    .flatMap((m) => [m, `node:${m}`])
    .concat(["undici"]),
);

export interface ImportEdge {
  /** Importing module, relative to src/ (build/build.ts). */
  readonly from: string;
  /** A module of src/ (relative to src/), or a package / node: module as written. */
  readonly to: string;
  readonly internal: boolean;
  /** `import type` / `export type`: gone at run time (still counts for direction). */
  readonly typeOnly: boolean;
  readonly line: number;
}

/** Every import of one module. `file` is relative to src/. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: ImportEdge[] = [];
  const add = (spec: ts.Expression, typeOnly: boolean): void => {
    if (!ts.isStringLiteralLike(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1;
    const s = spec.text;
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, ".ts");
    if (s.startsWith(".") && !to.startsWith("../")) {
      out.push({ from: file, to, internal: true, typeOnly, line });
    } else {
      out.push({ from: file, to: s, internal: false, typeOnly, line });
    }
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      // `import { type A, type B }` is as type-only as `import type { A, B }`.
      const allTypes = c?.namedBindings && ts.isNamedImports(c.namedBindings) && !c.name && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly);
      add(n.moduleSpecifier, !!c && (c.isTypeOnly || !!allTypes));
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      add(n.moduleSpecifier, n.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, n.isTypeOnly);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0]) {
      add(n.arguments[0], false);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      // `typeof import("../x.js")` in a type position.
      add(n.argument.literal, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The folder a module of src/ belongs to (build/build.ts -> build, version.ts -> version). */
export function folderOf(file: string): string {
  const parts = file.split("/");
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, "") : parts[0]!;
}

/**
 * Every broken rule, one line each naming the importing module (with its
 * line), the imported one and the rule. `modules`: path relative to src/ ->
 * source text.
 */
export function checkImports(modules: ReadonlyMap<string, string>, layers = LAYERS, pure = PURE): string[] {
  const rank = new Map<string, number>();
  layers.forEach((row, i) => row.forEach((f) => rank.set(f, i)));
  const problems: string[] = [];
  const edges = [...modules].flatMap(([file, text]) => importsOf(file, text));
  const byFile = new Map<string, ImportEdge[]>();
  for (const e of edges) byFile.set(e.from, [...(byFile.get(e.from) ?? []), e]);

  for (const f of new Set([...modules.keys()].map(folderOf))) {
    if (!rank.has(f)) problems.push(`src/${f}: in no layer of test/structure/import-rules.ts LAYERS; add it to the row it belongs to`);
  }

  // (a) Cycles between folders, each shown by the imports that close it.
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const e of edges) {
    if (!e.internal) continue;
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, e);
  }
  for (const scc of stronglyConnected(graph)) {
    if (scc.length < 2) continue;
    const inside = new Set(scc);
    const shown = [...inside].flatMap((a) => [...(graph.get(a) ?? [])].filter(([b]) => inside.has(b)).map(([, e]) => `src/${e.from}:${e.line} imports src/${e.to}`));
    problems.push(`cycle between folders ${scc.sort().join(", ")}: ${shown.join("; ")}`);
  }

  // (b) Upward (or sideways) imports.
  for (const e of edges) {
    if (!e.internal) continue;
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b || !rank.has(a) || !rank.has(b)) continue;
    if (rank.get(b)! >= rank.get(a)!) {
      problems.push(`src/${e.from}:${e.line} imports src/${e.to}: ${b}/ (layer ${rank.get(b)}) is not below ${a}/ (layer ${rank.get(a)}); dependencies point down (LAYERS in test/structure/import-rules.ts)`);
    }
  }

  // (c) Pure folders reach no I/O module through value imports.
  const ioPath = new Map<string, string[] | null>();
  const reachIo = (file: string, seen: Set<string>): string[] | null => {
    if (ioPath.has(file)) return ioPath.get(file)!;
    if (seen.has(file)) return null;
    seen.add(file);
    let found: string[] | null = null;
    for (const e of byFile.get(file) ?? []) {
      if (e.typeOnly) continue;
      if (!e.internal) {
        if (IO_MODULES.has(e.to)) found = [`src/${file}:${e.line}`, e.to];
      } else {
        const sub = reachIo(e.to, seen);
        if (sub) found = [`src/${file}:${e.line}`, ...sub];
      }
      if (found) break;
    }
    ioPath.set(file, found);
    return found;
  };
  for (const file of modules.keys()) {
    if (!pure.has(folderOf(file))) continue;
    const chain = reachIo(file, new Set());
    if (chain) problems.push(`${chain.join(" -> ")}: ${folderOf(file)}/ is pure (no file, process or network I/O, DESIGN.md)`);
  }
  return problems;
}

/** Tarjan's strongly connected components. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((m) => [...m.keys()])]);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      out.push(scc);
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}
