// The subset of Go's text/template that docker users type into --format:
// {{.Field.Sub}}, {{.}}, {{json .X}}, {{index .Map "key"}}, {{join .L ","}},
// {{upper}}/{{lower}}/{{len}}/{{println}}, pipelines (`.X | json`),
// {{range .List}}…{{end}}, {{if .X}}…{{else}}…{{end}}, {{with .X}}…{{end}}
// and the {{- / -}} trim markers. Values are plain JSON-like data; printing
// follows Go (`[a b]` for lists, `map[k:v]` for maps, `<no value>` for a
// missing field) so scripts written for docker keep working.
import { KilnError } from "../util/errors.js";

type Expr =
  | { readonly kind: "dot"; readonly path: readonly string[] }
  | { readonly kind: "lit"; readonly value: unknown }
  | { readonly kind: "call"; readonly fn: string; readonly args: readonly Expr[] };

type Node =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "print"; readonly expr: Expr }
  | { readonly kind: "if" | "with"; readonly cond: Expr; readonly then: Node[]; readonly otherwise: Node[] }
  | { readonly kind: "range"; readonly list: Expr; readonly body: Node[]; readonly otherwise: Node[] };

export interface Template {
  execute(data: unknown): string;
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  index: (v, ...keys) => keys.reduce((cur, k) => (cur == null ? undefined : (cur as Record<string, unknown>)[String(k)]), v),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep ?? "")) : goString(v)),
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
  title: (v) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  print: (...a) => a.map(goString).join(""),
  println: (...a) => `${a.map(goString).join(" ")}\n`,
  printf: (f, ...a) => {
    let i = 0;
    return String(f).replace(/%[svdq%]/g, (m) => (m === "%%" ? "%" : m === "%q" ? JSON.stringify(goString(a[i++])) : goString(a[i++])));
  },
  truncate: (v, n) => goString(v).slice(0, Number(n)),
  split: (v, sep) => goString(v).split(String(sep)),
  not: (v) => !truthy(v),
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
};

export function parseTemplate(source: string): Template {
  const tokens = tokenize(source);
  let pos = 0;
  const parseList = (stopAt: readonly string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.kind === "text") {
        if (t.text) nodes.push({ kind: "text", text: t.text });
        continue;
      }
      const word = /^(\w+)\b/.exec(t.action)?.[1] ?? "";
      if (word === "end" || word === "else") {
        if (!stopAt.includes(word)) throw bad(source, `unexpected {{${word}}}`);
        return { nodes, stop: word };
      }
      if (word === "if" || word === "with" || word === "range") {
        const expr = parseExpr(t.action.slice(word.length), source);
        const body = parseList(["else", "end"]);
        const otherwise = body.stop === "else" ? parseList(["end"]).nodes : [];
        if (word === "range") nodes.push({ kind: "range", list: expr, body: body.nodes, otherwise });
        else nodes.push({ kind: word, cond: expr, then: body.nodes, otherwise });
        continue;
      }
      if (t.action.trim() === "") throw bad(source, "empty action {{}}");
      nodes.push({ kind: "print", expr: parseExpr(t.action, source) });
    }
    if (stopAt.length) throw bad(source, `missing {{end}}`);
    return { nodes, stop: "" };
  };
  const root = parseList([]).nodes;
  return { execute: (data) => run(root, data) };
}

/** Shorthand: parse and run once. */
export function renderTemplate(source: string, data: unknown): string {
  return parseTemplate(source).execute(data);
}

function run(nodes: readonly Node[], dot: unknown): string {
  let out = "";
  for (const n of nodes) {
    switch (n.kind) {
      case "text":
        out += n.text;
        break;
      case "print":
        out += goString(evaluate(n.expr, dot));
        break;
      case "if": {
        const v = evaluate(n.cond, dot);
        out += run(truthy(v) ? n.then : n.otherwise, dot);
        break;
      }
      case "with": {
        const v = evaluate(n.cond, dot);
        out += truthy(v) ? run(n.then, v) : run(n.otherwise, dot);
        break;
      }
      case "range": {
        const v = evaluate(n.list, dot);
        // Go ranges over a map's values in key order.
        const items = Array.isArray(v) ? v : v && typeof v === "object" ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
        out += items.length ? items.map((item) => run(n.body, item)).join("") : run(n.otherwise, dot);
        break;
      }
    }
  }
  return out;
}

function evaluate(e: Expr, dot: unknown): unknown {
  switch (e.kind) {
    case "lit":
      return e.value;
    case "dot":
      return e.path.reduce<unknown>((cur, k) => (cur != null && typeof cur === "object" ? (cur as Record<string, unknown>)[k] : undefined), dot);
    case "call": {
      const f = FUNCS[e.fn]!;
      return f(...e.args.map((a) => evaluate(a, dot)));
    }
  }
}

/** Go's fmt %v for JSON-like values. */
export function goString(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

// ---- lexing ----

type Token = { readonly kind: "text"; text: string } | { readonly kind: "action"; readonly action: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      out.push({ kind: "text", text: src.slice(i) });
      break;
    }
    out.push({ kind: "text", text: src.slice(i, open) });
    const close = findClose(src, open + 2);
    if (close < 0) throw bad(src, "unclosed action {{");
    let action = src.slice(open + 2, close);
    if (action.startsWith("- ") || action === "-") {
      action = action.slice(1);
      const prev = out[out.length - 1] as { kind: "text"; text: string };
      prev.text = prev.text.trimEnd();
    }
    let trimNext = false;
    if (action.endsWith(" -")) {
      action = action.slice(0, -1);
      trimNext = true;
    }
    out.push({ kind: "action", action: action.trim() });
    i = close + 2;
    if (trimNext) while (i < src.length && /\s/.test(src[i]!)) i++;
  }
  return out;
}

function findClose(src: string, from: number): number {
  let inStr = false;
  for (let i = from; i < src.length - 1; i++) {
    const c = src[i];
    if (inStr) {
      if (c === "\\") i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === "}" && src[i + 1] === "}") return i;
  }
  return -1;
}

// ---- expressions: pipelines of commands ----

function parseExpr(text: string, source: string): Expr {
  const stages = splitPipes(text).map((s) => parseCommand(s, source));
  if (stages.length === 0) throw bad(source, "empty pipeline");
  let acc = stages[0]!;
  for (const next of stages.slice(1)) {
    if (next.kind !== "call") throw bad(source, "only a function can follow |");
    acc = { kind: "call", fn: next.fn, args: [...next.args, acc] };
  }
  return acc;
}

function parseCommand(text: string, source: string): Expr {
  const words = splitWords(text, source);
  if (words.length === 0) throw bad(source, "empty command");
  const [head, ...rest] = words;
  if (/^[A-Za-z_]\w*$/.test(head!) && !["true", "false", "nil"].includes(head!)) {
    if (!(head! in FUNCS)) throw bad(source, `function "${head}" not defined`);
    return { kind: "call", fn: head!, args: rest.map((w) => parseTerm(w, source)) };
  }
  if (rest.length) throw bad(source, `can't give arguments to ${head}`);
  return parseTerm(head!, source);
}

function parseTerm(w: string, source: string): Expr {
  if (w.startsWith("(") && w.endsWith(")")) return parseExpr(w.slice(1, -1), source);
  if (w === ".") return { kind: "dot", path: [] };
  if (/^(\.[A-Za-z_][\w-]*)+$/.test(w)) return { kind: "dot", path: w.slice(1).split(".") };
  if (w.startsWith('"')) return { kind: "lit", value: JSON.parse(w) as string };
  if (w.startsWith("`")) return { kind: "lit", value: w.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { kind: "lit", value: Number(w) };
  if (w === "true" || w === "false") return { kind: "lit", value: w === "true" };
  if (w === "nil") return { kind: "lit", value: null };
  throw bad(source, `unexpected "${w}" in action`);
}

function splitPipes(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  let q: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      cur += c;
      if (c === "\\" && q === '"') cur += text[++i] ?? "";
      else if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "`") q = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

function splitWords(text: string, source: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let j = i;
    if (c === '"' || c === "`") {
      j++;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" && c === '"' ? 2 : 1;
      if (j >= text.length) throw bad(source, "unterminated string");
      j++;
    } else if (c === "(") {
      let depth = 0;
      for (; j < text.length; j++) {
        if (text[j] === "(") depth++;
        else if (text[j] === ")" && --depth === 0) break;
      }
      j++;
    } else while (j < text.length && !/\s/.test(text[j]!)) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function bad(source: string, why: string): KilnError {
  return new KilnError("USAGE", `template ${JSON.stringify(source)}: ${why}`, { hint: 'e.g. --format "{{.Id}} {{json .Config.Env}}"' });
}
