// Python pins: requirements*.txt lines of the form name==version (pip's
// other specifiers name a range, not what is installed), and poetry.lock's
// [[package]] tables. poetry.lock is read with just enough TOML to find
// `name` and `version` directly under each [[package]] header.

export interface PythonPin {
  name: string;
  version: string;
}

const NAME = "[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?";
const PIN = new RegExp(`^(${NAME})(?:\\[[^\\]]*\\])?===?([^\\s,;*]+)$`);

export function parseRequirements(text: string): PythonPin[] {
  const out: PythonPin[] = [];
  // A backslash at the end of a line joins it to the next (pip does the same before anything else).
  for (const logical of text.replace(/\\\r?\n/g, " ").split("\n")) {
    // "#" starts a comment at the beginning of a line or after whitespace; "pkg#egg" is not one.
    let line = logical.replace(/(^|\s)#.*$/, "").trim();
    if (line === "" || line.startsWith("-")) continue; // -r, -c, -e, --index-url …
    line = line.split(";")[0]!; // environment markers
    // Per-requirement options (--hash=…) follow the specifier.
    const spec = line.split(/\s+--?[A-Za-z]/)[0]!.replace(/\s+/g, "");
    const m = PIN.exec(spec);
    if (m) out.push({ name: m[1]!, version: m[2]! });
  }
  return out;
}

export function parsePoetryLock(text: string): PythonPin[] {
  const out: PythonPin[] = [];
  let pkg: { name?: string; version?: string } | undefined;
  // False inside [package.dependencies] and the like, whose keys are other packages' names.
  let direct = false;
  let inMultiline = false;
  const flush = (): void => {
    if (pkg?.name && pkg.version) out.push({ name: pkg.name, version: pkg.version });
    pkg = undefined;
  };
  for (const line of text.split("\n")) {
    // Skip the inside of multi-line strings (descriptions), where anything may look like a key.
    const triples = (line.match(/"""|'''/g) ?? []).length;
    if (inMultiline) {
      if (triples % 2 === 1) inMultiline = false;
      continue;
    }
    if (triples % 2 === 1) inMultiline = true;
    const header = /^\s*\[(\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
    if (header) {
      const [, array, table] = header as unknown as [string, string, string];
      direct = array === "[" && table === "package";
      if (direct) {
        flush();
        pkg = {};
      } else if (!table.startsWith("package.")) flush();
      continue;
    }
    if (!pkg || !direct) continue;
    const kv = /^\s*(name|version)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (kv) pkg[kv[1] as "name" | "version"] = kv[2] ?? kv[3];
  }
  flush();
  return out;
}
