// Debian control-file syntax (deb822): paragraphs separated by blank lines,
// "Field: value" lines, continuation lines starting with a space or tab.
// Field names are case-insensitive, so they are kept lower-cased.

export type Paragraph = ReadonlyMap<string, string>;

export function parseParagraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  const flush = (): void => {
    if (current.size > 0) out.push(current);
    current = new Map();
    last = undefined;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (last !== undefined) current.set(last, `${current.get(last)}\n${line.trim()}`);
      continue;
    }
    if (line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    current.set(last, line.slice(colon + 1).trim());
  }
  flush();
  return out;
}
