// os-release(5): shell-style KEY=value lines. Only the three fields the
// purls need are kept; the rest of the file is ignored.
import type { Distro } from "./types.js";

export function parseOsRelease(text: string): Distro {
  const fields = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) fields.set(m[1]!, unquote(m[2]!));
  }
  const d: Distro = {};
  const id = fields.get("ID")?.toLowerCase();
  if (id) d.id = id;
  const versionId = fields.get("VERSION_ID");
  if (versionId) d.versionId = versionId;
  const codename = fields.get("VERSION_CODENAME");
  if (codename) d.versionCodename = codename;
  return d;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  return v;
}
