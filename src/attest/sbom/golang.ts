// go.mod: the `require` directives (single-line and block form, indirect
// ones included), with `replace` applied, since a replaced module is not
// the one the build used.

export interface GoModule {
  path: string;
  version: string;
}

interface Replace {
  from: string;
  fromVersion?: string;
  /** undefined when replaced by a local directory. */
  to?: GoModule;
}

function tokens(line: string): string[] {
  // Parentheses are tokens of their own in go.mod ("require(" is "require (").
  const code = line.replace(/\/\/.*$/, "").replace(/[()]/g, " $& ").trim();
  if (code === "") return [];
  return code.split(/\s+/).map((t) => t.replace(/^["`](.*)["`]$/, "$1"));
}

export function parseGoMod(text: string): GoModule[] {
  const requires: GoModule[] = [];
  const replaces: Replace[] = [];
  let block: string | undefined;
  const directive = (verb: string, args: string[]): void => {
    if (verb === "require" && args.length >= 2) requires.push({ path: args[0]!, version: args[1]! });
    if (verb === "replace") {
      const arrow = args.indexOf("=>");
      if (arrow < 1 || arrow > 2 || args.length <= arrow + 1) return;
      const r: Replace = { from: args[0]! };
      if (arrow === 2) r.fromVersion = args[1]!;
      const target = args.slice(arrow + 1);
      if (target.length >= 2) r.to = { path: target[0]!, version: target[1]! };
      replaces.push(r);
    }
  };
  for (const line of text.split("\n")) {
    const t = tokens(line);
    if (t.length === 0) continue;
    if (block !== undefined) {
      if (t[0] === ")") block = undefined;
      else directive(block, t);
      continue;
    }
    if (t[1] === "(" && t.length === 2) block = t[0]!;
    else directive(t[0]!, t.slice(1));
  }
  const out: GoModule[] = [];
  for (const req of requires) {
    // A versioned replace wins over an unversioned one for the same module, as in the go command.
    const r =
      replaces.find((x) => x.from === req.path && x.fromVersion === req.version) ??
      replaces.find((x) => x.from === req.path && x.fromVersion === undefined);
    if (!r) out.push(req);
    else if (r.to) out.push(r.to);
    // Replaced by a local directory: its code is the project's own, not any module version.
  }
  return out;
}
