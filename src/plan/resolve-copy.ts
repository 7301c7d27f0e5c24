// COPY, ADD and WORKDIR, in their stage and with the image config they run
// on, turned into the one value that both the cache key (cache/file-step-key.ts)
// and the executor (steps/copy.ts, workdir.ts) consume: every word
// expanded, each source classified (a path, a URL, a heredoc body), the
// destination made absolute, --chown and --chmod typed. Pure: no I/O. What
// a path source selects and its content digest are found by the builder
// (steps/copy-sources.ts), which has the filesystems.
import path from "node:path";
import { cleanSource, isRemoteUrl } from "../context/source-names.js";
import { expandWord, type VarLookup } from "../dockerfile/expand.js";
import type { AddInstruction, CopyInstruction, WorkdirInstruction } from "../dockerfile/types.js";
import { parseChmodSpec } from "../fsutil/chmod-spec.js";
import { envLookup, type ContainerConfig } from "../oci/config.js";
import { KilnError, type SourceLocation } from "../util/errors.js";

/** One source argument after expansion. */
export type CopySource =
  /** A path (or wildcard) in the context, a named context or --from's filesystem; `/./` already taken out. */
  | { readonly kind: "path"; readonly pattern: string; readonly pivot?: number }
  /** ADD https://…: known only once fetched, so such a step is not cached. */
  | { readonly kind: "url"; readonly url: string };

/**
 * --chown: numeric ids are resolved here; a name needs the image's
 * /etc/passwd, which the step's rootfs holds. The rootfs is the parent
 * chain, which is in the key, so the name and the chain fix the ids.
 */
export type CopyOwner = { readonly kind: "ids"; readonly uid: number; readonly gid: number } | { readonly kind: "names"; readonly spec: string };

/** --chmod: octal bits, or symbolic clauses (dockerfile 1.14) applied per file. */
export type CopyMode = { readonly kind: "octal"; readonly mode: number } | { readonly kind: "symbolic"; readonly spec: string };

export interface ResolvedCopy {
  readonly kind: "copy" | "add";
  /** --from: a stage, an image or a named context (literal: never expanded). */
  readonly from?: string;
  readonly sources: readonly CopySource[];
  /** Heredoc sources, bodies expanded unless the name was quoted. */
  readonly heredocs: readonly { readonly name: string; readonly content: string }[];
  /** Absolute, relative destinations resolved against WORKDIR. */
  readonly dest: string;
  /** A trailing slash, `.`/`..` or --parents: the destination is a directory. */
  readonly destIsDir: boolean;
  readonly owner?: CopyOwner;
  readonly mode?: CopyMode;
  readonly exclude: readonly string[];
  readonly parents: boolean;
  readonly link: boolean;
  /** ADD --unpack (absent: local archives unpack, downloads do not). */
  readonly unpack?: boolean;
  readonly checksum?: string;
  readonly keepGitDir?: boolean;
  /** The image history's created_by. */
  readonly createdBy: string;
}

export interface ResolvedWorkdir {
  /** Absolute, relative to the previous WORKDIR. */
  readonly dir: string;
  /** The USER in effect, as written: the directory is made with its ids, looked up in the rootfs. */
  readonly user: string;
  readonly createdBy: string;
}

export interface FileStepScope {
  readonly config: ContainerConfig;
  /** ARGs declared in this stage so far (undefined: declared without a value). */
  readonly args: ReadonlyMap<string, string | undefined>;
}

/** Expansion scope: ENV wins over ARG, as in docker. */
function varsIn(scope: FileStepScope): VarLookup {
  return (n) => envLookup(scope.config.Env, n) ?? scope.args.get(n);
}

export function resolveWorkdir(instr: WorkdirInstruction, scope: FileStepScope): ResolvedWorkdir {
  const raw = expandWord(instr.path, varsIn(scope));
  return { dir: path.posix.resolve(scope.config.WorkingDir || "/", raw), user: scope.config.User ?? "", createdBy: instr.original };
}

export function resolveCopy(instr: CopyInstruction | AddInstruction, scope: FileStepScope, loc: SourceLocation): ResolvedCopy {
  const keyword = instr.kind.toUpperCase();
  const vars = varsIn(scope);
  const destRaw = expandWord(instr.dest, vars);
  const destIsDir = destRaw.endsWith("/") || destRaw === "." || destRaw === ".." || instr.parents === true;
  const raw = instr.sources.map((s) => expandWord(s, vars));
  const checksum = instr.kind === "add" && instr.checksum !== undefined ? expandWord(instr.checksum, vars) : undefined;
  if (checksum !== undefined && !raw.some(isRemoteUrl)) {
    throw new KilnError("INVALID_CHECKSUM", "ADD --checksum is only supported for http(s) sources", { location: loc });
  }
  // Counted in source arguments, as BuildKit: one wildcard matching many files is one source.
  if (instr.sources.length + (instr.heredocs?.length ?? 0) > 1 && !destIsDir) {
    throw new KilnError("COPY_DEST_NOT_DIR", `when using ${keyword} with more than one source file, the destination must be a directory and end with a /`, { location: loc });
  }
  const sources = raw.map((s): CopySource => {
    if (isRemoteUrl(s)) {
      if (instr.kind === "copy") throw new KilnError("COPY_URL", `COPY does not accept URLs (${s})`, { location: loc, hint: "use ADD for remote files" });
      return { kind: "url", url: s };
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s)) {
      throw new KilnError("UNSUPPORTED", `${keyword} of ${s} is not supported yet`, { location: loc, hint: "download it in a RUN step, or place it in the build context" });
    }
    return { kind: "path", ...parentsPivot(s, instr.parents === true) };
  });
  const from = instr.kind === "copy" ? instr.from : undefined;
  return {
    kind: instr.kind,
    ...(from !== undefined ? { from } : {}),
    sources,
    heredocs: (instr.heredocs ?? []).map((d) => ({ name: d.name, content: d.expand ? expandWord(d.content, vars, { raw: true }) : d.content })),
    dest: path.posix.resolve(scope.config.WorkingDir || "/", destRaw),
    destIsDir,
    // An empty --chown= is no flag (the default owner), as before this module.
    ...(instr.chown ? { owner: ownerOf(expandWord(instr.chown, vars)) } : {}),
    ...(instr.chmod !== undefined ? { mode: modeOf(expandWord(instr.chmod, vars), loc) } : {}),
    exclude: (instr.exclude ?? []).map((e) => expandWord(e, vars)),
    parents: instr.parents === true,
    link: instr.link === true,
    ...(instr.kind === "add" && instr.unpack !== undefined ? { unpack: instr.unpack } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
    ...(instr.kind === "add" && instr.keepGitDir !== undefined ? { keepGitDir: instr.keepGitDir } : {}),
    createdBy: `${instr.original} # buildkit`,
  };
}

/**
 * --parents keeps each source's path under the destination; a `/./` in
 * the source marks where the kept part starts (`COPY --parents a/./b/c /d`
 * gives /d/b/c). The pivot counts path segments, so it works after a
 * wildcard too: with `a/b?/./c` the kept part is `c`, whichever b? matched.
 */
function parentsPivot(src: string, parents: boolean): { pattern: string; pivot?: number } {
  if (!parents) return { pattern: src };
  const i = src.indexOf("/./");
  if (i < 0) return { pattern: src };
  const before = cleanSource(src.slice(0, i));
  return { pattern: src.slice(0, i) + src.slice(i + 2), pivot: before === "" ? 0 : before.split("/").length };
}

/** A bare numeric user keeps gid = uid (BuildKit); anything with a name is looked up in the rootfs. */
function ownerOf(spec: string): CopyOwner {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (m) return { kind: "ids", uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
  return { kind: "names", spec };
}

function modeOf(value: string, loc: SourceLocation): CopyMode {
  // BuildKit: an octal string between 0 and 07777, or (dockerfile 1.14) symbolic clauses.
  if (/^[0-7]+$/.test(value) && parseInt(value, 8) <= 0o7777) return { kind: "octal", mode: parseInt(value, 8) };
  if (/^\d+$/.test(value) || !parseChmodSpec(value)) {
    throw new KilnError("INVALID_CHMOD", `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`, {
      location: loc,
      hint: "an octal mode (755, 0644) or symbolic clauses (u+x,g-w)",
    });
  }
  return { kind: "symbolic", spec: value };
}
