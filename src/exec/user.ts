// USER resolution as docker does it: names are looked up in the image's own
// /etc/passwd and /etc/group (never the host's); numeric ids need no entry.
import { KilnError } from "../util/errors.js";
import { readRegularFile } from "../fsutil/read-regular-file.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  readonly home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/** A passwd or group file bigger than this is not one an image means to use. */
export const MAX_USER_DB_BYTES = 16 * 1024 * 1024;

async function readDb(rootfs: string, file: string): Promise<string[][]> {
  // Resolved inside the root (a link to /../../etc/passwd is the image's own
  // file) and read only when regular and bounded: an image whose /etc/passwd
  // is /dev/zero or a FIFO must not fill memory or hang the build.
  const r = await readRegularFile(await resolveInRoot(rootfs, file), MAX_USER_DB_BYTES);
  if (r.kind === "missing") return [];
  if (r.kind !== "file") {
    const what = r.kind === "too-large" ? `${r.size} bytes, over the ${MAX_USER_DB_BYTES}-byte limit` : `a ${r.type}, not a regular file`;
    throw new KilnError("IMAGE_FILE_INVALID", `the image's ${file} is ${what}`, { hint: `replace ${file} in the base image with a regular file` });
  }
  return r.bytes
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
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
  // The primary gid is always a supplementary group too (the CVE-2023-25173
  // fix in runc and containerd: otherwise a process could shed it with
  // setgroups and pass a group-deny permission); the groups that list the
  // user come after it, only when the group was not given explicitly, as docker.
  const member =
    groupPart === undefined && entry ? groups.filter((g) => g.members.includes(entry!.name) && g.gid !== gid).map((g) => g.gid) : [];
  const additionalGids = [gid, ...new Set(member)];
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}
