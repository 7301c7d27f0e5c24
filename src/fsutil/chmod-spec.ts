// COPY/ADD --chmod: an octal mode (0755) or chmod(1)-style symbolic clauses
// (u+x,g-w,o=r,a+X), applied to each copied file's own mode the way the
// chmod command does. Returns a function so directories and files can
// differ (X: execute only for directories or already-executable files).

export type ModeFn = (current: number, isDir: boolean) => number;

const CLAUSE = /^([ugoa]*)([-+=])([rwxXst]*|[ugo])$/;

/** Parses a --chmod value; undefined when it is neither octal nor symbolic. */
export function parseChmodSpec(value: string): ModeFn | undefined {
  if (/^[0-7]{1,4}$/.test(value)) {
    const mode = parseInt(value, 8);
    return () => mode;
  }
  const clauses: { who: string; op: string; perms: string }[] = [];
  for (const part of value.split(",")) {
    // Several operators in one clause (u+x-w) are split into clauses.
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(part);
    if (!m) return undefined;
    for (const opm of m[2]!.matchAll(/([-+=])([rwxXstugo]*)/g)) {
      if (!CLAUSE.test(`${m[1]}${opm[1]}${opm[2]}`)) return undefined;
      clauses.push({ who: m[1] || "a", op: opm[1]!, perms: opm[2]! });
    }
  }
  if (clauses.length === 0) return undefined;
  return (current, isDir) => {
    let mode = current & 0o7777;
    for (const c of clauses) {
      const who = c.who.includes("a") ? "ugo" : c.who;
      let bits = 0;
      for (const w of who) {
        const shift = w === "u" ? 6 : w === "g" ? 3 : 0;
        let perm = 0;
        for (const p of c.perms) {
          if (p === "r") perm |= 4;
          else if (p === "w") perm |= 2;
          else if (p === "x") perm |= 1;
          else if (p === "X" && (isDir || (mode & 0o111) !== 0)) perm |= 1;
          else if (p === "u") perm |= (mode >> 6) & 7;
          else if (p === "g") perm |= (mode >> 3) & 7;
          else if (p === "o") perm |= mode & 7;
          else if (p === "s") bits |= w === "u" ? 0o4000 : w === "g" ? 0o2000 : 0;
          else if (p === "t") bits |= w === "o" || c.who.includes("a") || c.who === "" ? 0o1000 : 0;
        }
        bits |= perm << shift;
      }
      const mask = who.split("").reduce((m, w) => m | (w === "u" ? 0o4700 : w === "g" ? 0o2070 : 0o1007), 0);
      if (c.op === "+") mode |= bits;
      else if (c.op === "-") mode &= ~bits;
      else mode = (mode & ~mask) | bits;
    }
    return mode;
  };
}
