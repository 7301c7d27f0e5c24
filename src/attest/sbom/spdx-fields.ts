// Values SPDX constrains: element ids, agents ("Person: …" /
// "Organization: …") and license expressions.

/** SPDX ids allow only letters, digits, "." and "-". */
export function idString(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "") || "x";
}

// Words that mark a maintainer as a team or list rather than one person
// ("Debian GCC Maintainers", "Ubuntu Developers", "Debian QA Group").
const ORGANIZATION = /\b(maintainers?|developers|team|group|project|packagers|foundation|community|inc|ltd|llc|gmbh)\b/i;

/**
 * "Name <email>" as dpkg and apk write it → "Person: Name (email)" or
 * "Organization: Name (email)". Undefined when there is no name to give.
 */
export function spdxAgent(raw: string): string | undefined {
  const m = /^\s*([^<]*?)\s*(?:<([^>]*)>)?\s*$/.exec(raw);
  const name = (m?.[1] || m?.[2] || "").replace(/[()]/g, "").trim();
  if (!name) return undefined;
  const email = m?.[2]?.trim();
  const kind = ORGANIZATION.test(name) || /@lists\./.test(email ?? "") ? "Organization" : "Person";
  return email ? `${kind}: ${name} (${email})` : `${kind}: ${name}`;
}

// Placeholders package managers accept but SPDX has no id for.
const NOT_A_LICENSE = new Set(["custom", "unknown", "unlicensed", "proprietary", "other", "public-domain", "publicdomain", "none", "noassertion"]);

/**
 * A declared license as SPDX wants it: a license expression (SPDX spec
 * annex D: ids joined by AND / OR / WITH, parentheses, "+"), else
 * NOASSERTION. The syntax is checked, not the ids against the license
 * list; LicenseRef- ids are refused because the document would have to
 * carry their text.
 */
export function licenseExpression(raw: string | undefined): string {
  if (raw === undefined) return "NOASSERTION";
  const tokens = raw.replace(/[()]/g, " $& ").trim().split(/\s+/);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const isId = (t: string | undefined): boolean =>
    t !== undefined && /^[A-Za-z0-9][A-Za-z0-9.-]*\+?$/.test(t) && !/^(LicenseRef|DocumentRef)-/.test(t) && !NOT_A_LICENSE.has(t.toLowerCase()) && !["AND", "OR", "WITH"].includes(t);
  const primary = (): boolean => {
    if (peek() === "(") {
      i++;
      if (!or() || peek() !== ")") return false;
      i++;
      return true;
    }
    if (!isId(peek())) return false;
    i++;
    if (peek() === "WITH") {
      i++;
      if (!isId(peek())) return false;
      i++;
    }
    return true;
  };
  const and = (): boolean => {
    if (!primary()) return false;
    while (peek() === "AND") {
      i++;
      if (!primary()) return false;
    }
    return true;
  };
  const or = (): boolean => {
    if (!and()) return false;
    while (peek() === "OR") {
      i++;
      if (!and()) return false;
    }
    return true;
  };
  return or() && i === tokens.length ? tokens.join(" ").replace(/\( /g, "(").replace(/ \)/g, ")") : "NOASSERTION";
}
