// USER resolution as docker does it: names are looked up in the image's own
// /etc/passwd and /etc/group (never the host's); numeric ids need no entry.
import { readFile } from "node:fs/promises";
import { KilnError } from "../util/errors.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  readonly home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

async function readDb(rootfs: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(await resolveInRoot(rootfs, file), "utf8");
    return text
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}

export function parsePasswd(rows: string[][]): PasswdEntry[] {
  return rows
    .filter((r) => r.length >= 4)
    .map((r) => ({ name: r[0]!, uid: Number(r[2]), gid: Number(r[3]), home: r[5] ?? "/" }));
}

export function parseGroup(rows: string[][]): GroupEntry[] {
  return rows
    .filter((r) => r.length >= 3)
    .map((r) => ({ name: r[0]!, gid: Number(r[2]), members: (r[3] ?? "").split(",").filter(Boolean) }));
}

const isNumeric = (s: string) => /^\d+$/.test(s);

export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const value = spec && spec !== "" ? spec : "root";
  const [userPart, groupPart] = value.split(":", 2) as [string, string | undefined];
  const passwd = parsePasswd(await readDb(rootfs, "/etc/passwd"));
  const groups = parseGroup(await readDb(rootfs, "/etc/group"));

  let entry = passwd.find((p) => (isNumeric(userPart) ? p.uid === Number(userPart) : p.name === userPart));
  if (!entry && !isNumeric(userPart)) {
    if (userPart === "root") entry = { name: "root", uid: 0, gid: 0, home: "/root" };
    else
      throw new KilnError("USER_UNKNOWN", `unable to find user ${userPart}: no matching entries in the image's /etc/passwd`, {
        hint: "use a numeric uid, or create the user in an earlier RUN step",
      });
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined && groupPart !== "") {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new KilnError("GROUP_UNKNOWN", `unable to find group ${groupPart}: no matching entries in the image's /etc/group`);
      gid = g.gid;
    }
  }
  // Supplementary groups only when the group was not given explicitly, as docker.
  const additionalGids =
    groupPart === undefined && entry
      ? groups.filter((g) => g.members.includes(entry!.name) && g.gid !== gid).map((g) => g.gid)
      : [];
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}
