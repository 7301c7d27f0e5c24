// Subordinate id ranges from /etc/subuid and /etc/subgid (shadow-utils'
// format, one `owner:start:count` a line, the owner a name or a number).
// A user without a range gets an error naming the exact lines to add: a
// free range past every range already given out.
import { readFile } from "node:fs/promises";
import { KilnError } from "../util/errors.js";

export interface IdRange {
  readonly start: number;
  readonly count: number;
}

export interface Owner {
  readonly name: string;
  readonly id: number;
}

export function parseSubids(text: string): { owner: string; range: IdRange }[] {
  const out: { owner: string; range: IdRange }[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(line);
    if (m && Number(m[3]) > 0) out.push({ owner: m[1]!, range: { start: Number(m[2]), count: Number(m[3]) } });
  }
  return out;
}

/** The ranges of `owner` (by name or by number), in file order. */
export function rangesOf(entries: ReturnType<typeof parseSubids>, owner: Owner): IdRange[] {
  return entries.filter((e) => e.owner === owner.name || e.owner === String(owner.id)).map((e) => e.range);
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

export interface SubidFiles {
  readonly subuid: string;
  readonly subgid: string;
}

export const SYSTEM_SUBID_FILES: SubidFiles = { subuid: "/etc/subuid", subgid: "/etc/subgid" };

export interface Subids {
  readonly uids: IdRange[];
  readonly gids: IdRange[];
}

/** Both files' ranges for the user (newgidmap, too, looks /etc/subgid up by user); either list may be empty. */
export async function readSubids(user: Owner, files: SubidFiles = SYSTEM_SUBID_FILES): Promise<Subids & { suggestion: IdRange }> {
  const [u, g] = await Promise.all([readOrEmpty(files.subuid), readOrEmpty(files.subgid)]);
  const uEntries = parseSubids(u);
  const gEntries = parseSubids(g);
  // 65536 ids from the first multiple of 65536 past every range in either
  // file (at least 100000, where useradd starts), as useradd would pick.
  const end = Math.max(100000, ...[...uEntries, ...gEntries].map((e) => e.range.start + e.range.count));
  const start = end === 100000 ? 100000 : Math.ceil(end / 65536) * 65536;
  return { uids: rangesOf(uEntries, user), gids: rangesOf(gEntries, user), suggestion: { start, count: 65536 } };
}

/** The error for a user with no subordinate ids: what to add, and what works meanwhile. */
export function noSubidsError(user: Owner, found: Subids & { suggestion: IdRange }, files: SubidFiles = SYSTEM_SUBID_FILES): KilnError {
  const { start, count } = found.suggestion;
  const line = `${user.name}:${start}:${count}`;
  const missing = [found.uids.length === 0 ? files.subuid : "", found.gids.length === 0 ? files.subgid : ""].filter(Boolean);
  return new KilnError(
    "NO_SUBIDS",
    `user ${user.name} (uid ${user.id}) has no subordinate ids in ${missing.join(" and ")}: without root, kiln builds in a user namespace that maps them, so that image files can belong to other users (chown, USER, setuid files)`,
    {
      hint:
        `as root, add the line "${line}" to ${missing.join(" and ")} ` +
        `(or: usermod --add-subuids ${start}-${start + count - 1} --add-subgids ${start}-${start + count - 1} ${user.name}); ` +
        "the range must not overlap another user's. Until then kiln works only as root",
    },
  );
}
