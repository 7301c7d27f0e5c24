// COPY and ADD from the build context, with docker's rules: a directory's
// contents are copied, a trailing slash (or several sources, or a wildcard)
// makes the destination a directory, relative destinations follow WORKDIR,
// and ADD unpacks local tar archives. Also: heredoc sources (`COPY <<EOF
// /f`), --chmod (octal or symbolic), --exclude, --parents, --link (the
// same result as a plain copy here), and ADD of http(s) URLs.
import { chmod, lstat, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ignoreMatcher, parseDockerignore, type IgnoreMatcher } from "../context/dockerignore.js";
import { fetchUrl, isRemoteUrl, type FetchedFile } from "../context/fetch-url.js";
import { globMatch } from "../context/path-glob.js";
import { cleanSource, selectSources, type SelectedSource } from "../context/select-sources.js";
import { expandWord } from "../dockerfile/expand.js";
import type { AddInstruction, CopyInstruction } from "../dockerfile/types.js";
import { resolveUser } from "../exec/user.js";
import { parseChmodSpec, type ModeFn } from "../fsutil/chmod-spec.js";
import { copyIntoRoot, createdDirMode, ensureDir, type CopyOptions, type Ownership } from "../fsutil/copy-into-root.js";
import { extractArchiveInto, isArchive } from "../fsutil/extract-archive.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import { KilnError, type SourceLocation } from "../util/errors.js";
import { withLayer, type ImageState } from "../image/image-state.js";
import { runLayerStep } from "../snapshot/layer-step.js";
import { contextView, openFromSource, type SourceView } from "../snapshot/source-view.js";
import { historyFor, locationOf, varsOf, type StepContext } from "./step-context.js";

/** One thing to copy: a context path, a heredoc body or a downloaded URL, already on the host. */
interface Item {
  readonly host: string;
  /** Context-relative path (for .dockerignore inside directories); "" for non-context items. */
  readonly rel: string;
  readonly isDir: boolean;
  /** Name used under a directory destination. */
  readonly name: string;
  /** --parents: the path kept under the destination. */
  readonly keep?: string;
  readonly kind: "context" | "heredoc" | "url";
  /** Per-source .dockerignore + --exclude matcher. */
  readonly ignore?: IgnoreMatcher;
}

export async function applyCopy(ctx: StepContext, state: ImageState, instr: CopyInstruction | AddInstruction): Promise<ImageState> {
  const loc = locationOf(instr.location);
  const keyword = instr.kind.toUpperCase();
  const vars = varsOf(ctx, state);
  const rawSources = instr.sources.map((s) => expandWord(s, vars));
  const destRaw = expandWord(instr.dest, vars);
  const workdir = state.config.WorkingDir || "/";
  const dest = path.posix.resolve(workdir, destRaw);
  const destIsDir = destRaw.endsWith("/") || destRaw === "." || destRaw === ".." || instr.parents === true;
  const mode = instr.chmod !== undefined ? chmodOf(expandWord(instr.chmod, vars), loc) : undefined;
  const excludes = (instr.exclude ?? []).map((e) => expandWord(e, vars));
  const checksum = instr.kind === "add" && instr.checksum !== undefined ? expandWord(instr.checksum, vars) : undefined;
  if (checksum !== undefined && !rawSources.some(isRemoteUrl)) {
    throw new KilnError("INVALID_CHECKSUM", "ADD --checksum is only supported for http(s) sources", { location: loc });
  }

  // Counted in source arguments, as BuildKit: one wildcard matching many files is one source.
  if (instr.sources.length + (instr.heredocs?.length ?? 0) > 1 && !destIsDir) {
    throw new KilnError("COPY_DEST_NOT_DIR", `when using ${keyword} with more than one source file, the destination must be a directory and end with a /`, { location: loc });
  }
  const scratch = await mkdtemp(path.join(ctx.layerEnv.tmpDir, `copy-src-${process.pid}-`));
  const downloads: FetchedFile[] = [];
  const source = await sourceOf(ctx, instr, loc);
  try {
    const items: Item[] = [];
    // Heredoc sources: files named after the delimiter, 0644 unless --chmod.
    for (const [i, doc] of (instr.heredocs ?? []).entries()) {
      const content = doc.expand ? expandWord(doc.content, vars, { raw: true }) : doc.content;
      const host = path.join(scratch, String(i));
      await writeFile(host, content);
      // Not writeFile's mode: that one passes through kiln's umask, and the layer would differ by machine.
      await chmod(host, 0o644);
      items.push({ host, rel: "", isDir: false, name: doc.name, kind: "heredoc" });
    }
    for (const s of rawSources) {
      if (isRemoteUrl(s)) {
        if (instr.kind === "copy") throw new KilnError("COPY_URL", `COPY does not accept URLs (${s})`, { location: loc, hint: "use ADD for remote files" });
        const f = await fetchUrl(s, ctx.layerEnv.tmpDir, checksum, loc, ctx.signal);
        downloads.push(f);
        items.push({ host: f.path, rel: "", isDir: false, name: f.name, kind: "url" });
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s)) {
        throw new KilnError("UNSUPPORTED", `${keyword} of ${s} is not supported yet`, { location: loc, hint: "download it in a RUN step, or place it in the build context" });
      }
      const { pattern, pivot } = parentsPivot(s, instr.parents === true);
      const from = instr.kind === "copy" ? instr.from : undefined;
      for (const sel of await selectSources(source.dir, pattern, source.ignore, loc, from)) {
        const ignore = withExcludes(source.ignore, excludes, sel.rel);
        if (excludes.length && !sel.isDir && isExcluded(excludes, sel)) continue;
        items.push({
          host: sel.host,
          rel: sel.rel,
          isDir: sel.isDir,
          name: path.posix.basename(sel.rel),
          kind: "context",
          ignore,
          ...(instr.parents ? { keep: keptPath(sel.rel, pivot) } : {}),
        });
      }
    }
    // Nothing selected (wildcards that match nothing, everything excluded): only a directory destination is made.
    if (items.length === 0 && !destIsDir) return withLayer(state, null, historyFor(ctx, `${instr.original} # buildkit`));

    const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
      // Without --chown, another stage's or an image's files keep their owners; the context's are root's.
      const owner: CopyOptions["owner"] = instr.chown ? await chownOf(rootfs, expandWord(instr.chown, vars), loc) : source.kind === "layers" ? "preserve" : { uid: 0, gid: 0 };
      // Directories made on the way take --chown and --chmod (BuildKit).
      const dirOwner = owner === "preserve" ? { uid: 0, gid: 0 } : owner;
      const dirMode = createdDirMode(mode !== undefined ? { mode } : {});
      if (destIsDir) await ensureDir(rootfs, dest, dirOwner, dirMode);
      const unpack = instr.kind === "add" ? instr.unpack : false;
      for (const item of items) {
        // ADD URL gives 0600 unless --chmod says otherwise, as docker.
        const itemMode: CopyOptions["mode"] = mode ?? (item.kind === "url" ? 0o600 : undefined);
        const opts: CopyOptions = { owner, ignore: item.ignore ?? source.ignore, ...(itemMode !== undefined ? { mode: itemMode } : {}) };
        if (item.keep !== undefined) {
          const target = path.posix.join(dest, item.keep);
          await ensureDir(rootfs, item.isDir ? target : path.posix.dirname(target), dirOwner, dirMode);
          await copyIntoRoot(rootfs, item.host, item.rel, target, opts);
          continue;
        }
        // ADD unpacks a local archive unless --unpack=false, a downloaded one only with --unpack=true.
        const mayUnpack = item.kind === "context" ? unpack !== false : item.kind === "url" && unpack === true;
        if (mayUnpack && !item.isDir && (await isArchive(item.host))) {
          await extractArchiveInto(item.host, rootfs, dest, ctx.layerEnv.tmpDir, instr.chown ? owner : "preserve");
          continue;
        }
        if (item.isDir) {
          await copyIntoRoot(rootfs, item.host, item.rel, dest, opts);
        } else {
          // An earlier item (an unpacked archive) may have made dest a directory.
          const target = destIsDir || (await isDirInRoot(rootfs, dest)) ? path.posix.join(dest, item.name) : dest;
          await copyIntoRoot(rootfs, item.host, item.rel, target, opts);
        }
      }
    });
    return withLayer(state, layer, historyFor(ctx, `${instr.original} # buildkit`));
  } finally {
    await source.close();
    for (const d of downloads) await d.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The context, or for COPY --from=STAGE|IMAGE that stage's or image's filesystem. */
async function sourceOf(ctx: StepContext, instr: CopyInstruction | AddInstruction, loc: SourceLocation): Promise<SourceView> {
  if (instr.kind !== "copy" || instr.from === undefined) return contextView(ctx.contextDir, ctx.ignore);
  if (!ctx.fromSource) throw new KilnError("UNSUPPORTED", "COPY --from needs a multi-stage build context", { location: loc });
  return openFromSource(ctx.layerEnv, await ctx.fromSource(instr.from));
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

function keptPath(rel: string, pivot: number | undefined): string {
  return pivot === undefined || pivot === 0 ? rel : rel.split("/").slice(pivot).join("/");
}

/**
 * .dockerignore plus --exclude. Exclude patterns are relative to the
 * source (as BuildKit matches them while walking it), so a directory's
 * entries are matched by their path below it.
 */
function withExcludes(base: IgnoreMatcher, excludes: readonly string[], srcRel: string): IgnoreMatcher {
  if (excludes.length === 0) return base;
  const excl = ignoreMatcher(parseDockerignore(excludes.join("\n")));
  const below = (rel: string) => (srcRel === "" ? rel : rel.startsWith(`${srcRel}/`) ? rel.slice(srcRel.length + 1) : rel);
  return {
    rules: [...base.rules, ...excl.rules],
    ignores: (rel) => base.ignores(rel) || excl.ignores(below(rel)),
    mayIncludeUnder: (dir) => !excl.ignores(below(dir)) && base.mayIncludeUnder(dir),
  };
}

/** A selected source itself is excluded when a pattern matches its name or its context path. */
function isExcluded(excludes: readonly string[], sel: SelectedSource): boolean {
  return excludes.some((e) => globMatch(e, path.posix.basename(sel.rel)) || globMatch(e, sel.rel));
}

async function isDirInRoot(rootfs: string, p: string): Promise<boolean> {
  try {
    return (await lstat(await resolveInRoot(rootfs, p))).isDirectory();
  } catch {
    return false;
  }
}

/** --chown=user[:group]: names from the image; a bare user keeps gid = uid for numbers, the user's group for names. */
async function chownOf(rootfs: string, spec: string, loc: SourceLocation): Promise<Ownership> {
  try {
    const [u, g] = spec.split(":", 2) as [string, string | undefined];
    const resolved = await resolveUser(rootfs, spec);
    if (g === undefined && /^\d+$/.test(u)) return { uid: resolved.uid, gid: resolved.uid };
    return { uid: resolved.uid, gid: resolved.gid };
  } catch (err) {
    if (err instanceof KilnError) throw new KilnError(err.code, `--chown=${spec}: ${err.message}`, { location: loc });
    throw err;
  }
}

function chmodOf(value: string, loc: SourceLocation): number | ModeFn {
  // BuildKit: an octal string between 0 and 07777, or (dockerfile 1.14) symbolic clauses.
  if (/^[0-7]+$/.test(value) && parseInt(value, 8) <= 0o7777) return parseInt(value, 8);
  const fn = /^\d+$/.test(value) ? undefined : parseChmodSpec(value);
  if (!fn) {
    throw new KilnError("INVALID_CHMOD", `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`, {
      location: loc,
      hint: "an octal mode (755, 0644) or symbolic clauses (u+x,g-w)",
    });
  }
  return fn;
}
