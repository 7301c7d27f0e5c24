// WWW-Authenticate parsing: `Bearer realm="…",service="…",scope="…"` or
// `Basic realm="…"`. Quoted values may contain commas (scopes with several
// actions), so this is a small tokenizer rather than a split.
export interface AuthChallenge {
  readonly scheme: "basic" | "bearer";
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(header: string | string[] | undefined): AuthChallenge | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const v of values) {
    const m = /^\s*(\w+)\s*(.*)$/s.exec(v);
    if (!m) continue;
    const scheme = m[1]!.toLowerCase();
    if (scheme !== "basic" && scheme !== "bearer") continue;
    return { scheme, params: parseParams(m[2]!) };
  }
  return undefined;
}

function parseParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && m[0] !== "") {
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
  }
  return out;
}
