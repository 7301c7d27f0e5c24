// Which context paths a COPY/ADD source names: literal paths, or wildcards
// (Go filepath.Match syntax plus `**` for any depth, see path-glob.ts) matched against the context after .dockerignore; a wildcard that
// matches nothing selects nothing. Symlinks in the context never lead outside it.
import { lstat, readdir } from "node:fs/promises";
import { KilnError, type SourceLocation } from "../util/errors.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import type { IgnoreMatcher } from "./dockerignore.js";
import { pathGlob } from "./path-glob.js";
import { cleanSource } from "./source-names.js";

export interface SelectedSource {
  /** Context-relative slash path ("" for the context root). */
  readonly rel: string;
  /** Where it is on the host: symlinks on the way resolved inside the context. */
  readonly host: string;
  readonly isDir: boolean;
}

const MAGIC = /[*?[\]]/;

export function hasWildcard(src: string): boolean {
  return MAGIC.test(src);
}

export async function selectSources(
  contextDir: string,
  src: string,
  ignore: IgnoreMatcher,
  location?: SourceLocation,
  /** What the sources are read from, for errors (`--from=builder`); default the build context. */
  from?: string,
): Promise<SelectedSource[]> {
  const clean = cleanSource(src);
  if (!hasWildcard(clean)) {
    if (clean !== "" && ignore.ignores(clean)) throw notFound(src, location, true, from);
    try {
      const host = await resolveInRoot(contextDir, clean);
      const st = await lstat(host);
      return [{ rel: clean, host, isDir: st.isDirectory() }];
    } catch {
      throw notFound(src, location, false, from);
    }
  }
  // Walk only below the part of the pattern that has no wildcard; `**`
  // (a whole segment) matches any number of directories. A wildcard that
  // matches nothing selects nothing (BuildKit's AllowEmptyWildcard).
  const parts = clean.split("/");
  const fixed: string[] = [];
  for (const p of parts) {
    if (MAGIC.test(p)) break;
    fixed.push(p);
  }
  const anyDepth = parts.includes("**");
  const depth = parts.length;
  const glob = pathGlob(clean);
  const out: SelectedSource[] = [];
  const walk = async (relDir: string, level: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(await resolveInRoot(contextDir, relDir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const rel = relDir === "" ? e.name : `${relDir}/${e.name}`;
      if (ignore.ignores(rel) && !(e.isDirectory() && ignore.mayIncludeUnder(rel))) continue;
      if ((anyDepth || level + 1 === depth) && !ignore.ignores(rel) && glob.matches(rel)) {
        // A match is copied whole (a symlink as what it points to): nothing below it is matched again.
        const host = await resolveInRoot(contextDir, rel);
        out.push({ rel, host, isDir: (await lstat(host)).isDirectory() });
      } else if (e.isDirectory() && (anyDepth ? glob.mayMatchUnder(rel) : level + 1 < depth)) {
        await walk(rel, level + 1);
      }
    }
  };
  await walk(fixed.join("/"), fixed.length);
  return out;
}

function notFound(src: string, location: SourceLocation | undefined, ignored: boolean, from?: string): KilnError {
  if (from !== undefined) {
    return new KilnError("COPY_SOURCE_NOT_FOUND", `"${src}" not found in --from=${from}`, {
      ...(location ? { location } : {}),
      hint: `the path is in ${from}'s filesystem, not the build context: check where that stage (or image) puts it`,
    });
  }
  return new KilnError(
    "COPY_SOURCE_NOT_FOUND",
    ignored ? `"${src}" is excluded by .dockerignore` : `"${src}" not found in the build context`,
    {
      ...(location ? { location } : {}),
      hint: ignored ? "remove it from .dockerignore or add a `!` exception" : "paths are relative to the build context directory, not the Dockerfile",
    },
  );
}
