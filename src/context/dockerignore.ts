// .dockerignore as docker reads it: one pattern a line, `#` comments, `!`
// exceptions, the last matching pattern wins, and a pattern that matches a
// directory also covers everything under it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../util/errors.js";
import { globMatch } from "./path-glob.js";

export interface IgnoreRule {
  readonly pattern: string;
  readonly exception: boolean;
}

export interface IgnoreMatcher {
  readonly rules: readonly IgnoreRule[];
  /** `rel` is a context-relative slash path without a leading "./" or "/". */
  ignores(rel: string): boolean;
  /** True when some exception could re-include something under `dir`. */
  mayIncludeUnder(dir: string): boolean;
}

/** `file` names the file in errors. */
export function parseDockerignore(text: string, file = ".dockerignore"): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (raw.startsWith("#")) continue;
    let line = raw.trim();
    if (line === "") continue;
    const exception = line.startsWith("!");
    // A bare "!" excludes nothing and re-includes nothing: BuildKit refuses it rather than guess.
    if (line === "!") {
      throw new KilnError("DOCKERIGNORE_INVALID", `${file}:${i + 1}: illegal exclusion pattern: "!"`, { hint: "write the pattern to re-include after the !, or remove the line" });
    }
    if (exception) line = line.slice(1).trim();
    let pattern = path.posix.normalize(line).replace(/^\/+/, "").replace(/\/+$/, "");
    if (pattern === "." || pattern === "") pattern = "**";
    rules.push({ pattern, exception });
  }
  return rules;
}

export function ignoreMatcher(rules: readonly IgnoreRule[]): IgnoreMatcher {
  const matchesSelfOrParent = (rel: string, pattern: string): boolean => {
    let p = rel;
    for (;;) {
      if (globMatch(pattern, p)) return true;
      const slash = p.lastIndexOf("/");
      if (slash < 0) return false;
      p = p.slice(0, slash);
    }
  };
  return {
    rules,
    ignores(rel: string): boolean {
      let ignored = false;
      for (const r of rules) if (matchesSelfOrParent(rel, r.pattern)) ignored = !r.exception;
      return ignored;
    },
    mayIncludeUnder(dir: string): boolean {
      return rules.some((r) => r.exception && (r.pattern.startsWith(`${dir}/`) || r.pattern.startsWith("**") || !r.pattern.includes("/")));
    },
  };
}

export async function loadDockerignore(contextDir: string, dockerfileRel?: string): Promise<IgnoreMatcher> {
  // BuildKit reads <Dockerfile>.dockerignore first, then the context's.
  const candidates = [...(dockerfileRel ? [`${dockerfileRel}.dockerignore`] : []), ".dockerignore"];
  for (const c of candidates) {
    try {
      return ignoreMatcher(parseDockerignore(await readFile(path.join(contextDir, c), "utf8"), path.join(contextDir, c)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return ignoreMatcher([]);
}
