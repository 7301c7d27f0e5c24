// COPY and ADD from the build context, with docker's rules: a directory's
// contents are copied, a trailing slash (or several sources, or a wildcard)
// makes the destination a directory, relative destinations follow WORKDIR,
// and ADD unpacks local tar archives. Also: heredoc sources (`COPY <<EOF
// /f`), --chmod (octal or symbolic), --exclude, --parents, --link (the
// same result as a plain copy here), and ADD of http(s) URLs. It runs the
// resolved step (plan/resolve-copy.ts) with the sources found for its key
// (copy-sources.ts), and never reads the instruction again.
import { chmod, lstat, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ignoreMatcher, parseDockerignore, type IgnoreMatcher } from "../context/dockerignore.js";
import { fetchUrl, type FetchedFile } from "../context/fetch-url.js";
import { globMatch } from "../context/path-glob.js";
import { selectSources, type SelectedSource } from "../context/select-sources.js";
import type { Location } from "../dockerfile/types.js";
import { resolveUser } from "../exec/user.js";
import { parseChmodSpec } from "../fsutil/chmod-spec.js";
import { copyIntoRoot, createdDirMode, ensureDir, type CopyOptions, type Ownership } from "./copy-into-root.js";
import { extractArchiveInto, isArchive } from "./extract-archive.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import type { CopyOwner, ResolvedCopy } from "../plan/resolve-copy.js";
import { KilnError, type SourceLocation } from "../util/errors.js";
import type { CopySources } from "./copy-sources.js";
import { withLayer, type ImageState } from "../image/image-state.js";
import { runLayerStep } from "../snapshot/layer-step.js";
import { contextView, layersView } from "../snapshot/source-view.js";
import { historyFor, locationOf, type StepContext } from "./step-context.js";

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

/** A COPY/ADD as the builder resolved it: what the cache key was made of, and nothing else, runs. */
export interface CopyStep {
  readonly copy: ResolvedCopy;
  /** What each source reads (copy-sources.ts). */
  readonly sources: CopySources;
}

export async function applyCopy(ctx: StepContext, state: ImageState, location: Location, step: CopyStep): Promise<ImageState> {
  const loc = locationOf(location);
  const { copy } = step;
  const { dest, destIsDir, exclude: excludes } = copy;
  const mode = copy.mode === undefined ? undefined : copy.mode.kind === "octal" ? copy.mode.mode : parseChmodSpec(copy.mode.spec)!;
  const history = historyFor(ctx, copy.createdBy);
  const scratch = await mkdtemp(path.join(ctx.layerEnv.tmpDir, `copy-src-${process.pid}-`));
  const downloads: FetchedFile[] = [];
  const source = step.sources.origin.kind === "dir" ? contextView(step.sources.origin.dir, step.sources.origin.ignore) : await layersView(ctx.layerEnv, step.sources.origin.layers);
  try {
    const items: Item[] = [];
    // Heredoc sources: files named after the delimiter, 0644 unless --chmod.
    for (const [i, doc] of copy.heredocs.entries()) {
      const host = path.join(scratch, String(i));
      await writeFile(host, doc.content);
      // Not writeFile's mode: that one passes through kiln's umask, and the layer would differ by machine.
      await chmod(host, 0o644);
      items.push({ host, rel: "", isDir: false, name: doc.name, kind: "heredoc" });
    }
    for (const [i, s] of copy.sources.entries()) {
      if (s.kind === "url") {
        const f = await fetchUrl(s.url, ctx.layerEnv.tmpDir, copy.checksum, loc, ctx.signal);
        downloads.push(f);
        items.push({ host: f.path, rel: "", isDir: false, name: f.name, kind: "url" });
        continue;
      }
      // A stage's or image's files are selected in its view, mounted only now.
      const selected = source.kind === "layers" ? await selectSources(source.dir, s.pattern, source.ignore, loc, copy.from) : step.sources.selected[i]!;
      for (const sel of selected) {
        const ignore = withExcludes(source.ignore, excludes, sel.rel);
        if (excludes.length && !sel.isDir && isExcluded(excludes, sel)) continue;
        items.push({
          host: sel.host,
          rel: sel.rel,
          isDir: sel.isDir,
          name: path.posix.basename(sel.rel),
          kind: "context",
          ignore,
          ...(copy.parents ? { keep: keptPath(sel.rel, s.pivot) } : {}),
        });
      }
    }
    // Nothing selected (wildcards that match nothing, everything excluded): no error and no
    // destination made, but still a layer (an empty one), as BuildKit's copy op returns
    // before creating anything (measured against dockerd's BuildKit, differential case noop-steps).
    // --parents copies the source root filtered by the pattern, so its destination is made
    // (BuildKit's testCopyParentsMissingDirectory: /out exists).

    const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
      // Without --chown, another stage's or an image's files keep their owners; the context's are root's.
      const owner: CopyOptions["owner"] = copy.owner ? await chownOf(rootfs, copy.owner, loc) : source.kind === "layers" ? "preserve" : { uid: 0, gid: 0 };
      // Directories made on the way take --chown and --chmod (BuildKit).
      const dirOwner = owner === "preserve" ? { uid: 0, gid: 0 } : owner;
      const dirMode = createdDirMode(mode !== undefined ? { mode } : {});
      if (destIsDir && (items.length > 0 || copy.parents)) await ensureDir(rootfs, dest, dirOwner, dirMode);
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
        const mayUnpack = copy.kind === "add" && (item.kind === "context" ? copy.unpack !== false : item.kind === "url" && copy.unpack === true);
        if (mayUnpack && !item.isDir && (await isArchive(item.host))) {
          await extractArchiveInto(item.host, rootfs, dest, ctx.layerEnv.tmpDir, copy.owner ? owner : "preserve");
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
    return withLayer(state, layer, history);
  } finally {
    await source.close();
    for (const d of downloads) await d.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
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

/** --chown with a name: looked up in the image's /etc/passwd and /etc/group; a bare user gets the user's group. */
async function chownOf(rootfs: string, owner: CopyOwner, loc: SourceLocation): Promise<Ownership> {
  if (owner.kind === "ids") return { uid: owner.uid, gid: owner.gid };
  try {
    const resolved = await resolveUser(rootfs, owner.spec);
    return { uid: resolved.uid, gid: resolved.gid };
  } catch (err) {
    if (err instanceof KilnError) throw new KilnError(err.code, `--chown=${owner.spec}: ${err.message}`, { location: loc });
    throw err;
  }
}
