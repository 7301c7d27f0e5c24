// COPY and ADD from the build context, with docker's rules: a directory's
// contents are copied, a trailing slash (or several sources, or a wildcard)
// makes the destination a directory, relative destinations follow WORKDIR,
// and ADD unpacks local tar archives.
import path from "node:path";
import { selectSources, hasWildcard, type SelectedSource } from "../../context/select-sources.js";
import { expandWord } from "../../dockerfile/expand.js";
import type { AddInstruction, CopyInstruction } from "../../dockerfile/types.js";
import { resolveUser } from "../../exec/user.js";
import { copyIntoRoot, ensureDir, type Ownership } from "../../fsutil/copy-into-root.js";
import { resolveInRoot } from "../../fsutil/resolve-in-root.js";
import { extractArchiveInto, isArchive } from "../../fsutil/extract-archive.js";
import { KilnError } from "../../util/errors.js";
import { withLayer, type ImageState } from "../image-state.js";
import { runLayerStep } from "../layer-step.js";
import { historyFor, locationOf, varsOf, type StepContext } from "../step-context.js";
import { lstat } from "node:fs/promises";

export async function applyCopy(ctx: StepContext, state: ImageState, instr: CopyInstruction | AddInstruction): Promise<ImageState> {
  const loc = locationOf(instr.location);
  const keyword = instr.kind.toUpperCase();
  const unsupported =
    instr.kind === "copy" && instr.from !== undefined ? "--from" : instr.heredocs?.length ? "heredocs" : instr.parents ? "--parents" : instr.exclude?.length ? "--exclude" : undefined;
  if (unsupported) throw new KilnError("UNSUPPORTED", `${keyword} ${unsupported} is not supported yet`, { location: loc });
  const vars = varsOf(ctx, state);
  const rawSources = instr.sources.map((s) => expandWord(s, vars));
  for (const s of rawSources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
      throw new KilnError("UNSUPPORTED", `${keyword} of a URL (${s}) is not supported yet`, { location: loc, hint: "download it in a RUN step, or place it in the build context" });
    }
  }
  const destRaw = expandWord(instr.dest, vars);
  const workdir = state.config.WorkingDir || "/";
  const dest = path.posix.resolve(workdir, destRaw);
  const destIsDir = destRaw.endsWith("/") || destRaw === "." || destRaw === "..";
  const mode = instr.chmod !== undefined ? parseChmod(instr.chmod, loc) : undefined;

  const selected: SelectedSource[] = [];
  for (const s of rawSources) selected.push(...(await selectSources(ctx.contextDir, s, ctx.ignore, loc)));
  if (selected.length > 1 && !destIsDir) {
    throw new KilnError("COPY_DEST_NOT_DIR", `when using ${keyword} with more than one source file, the destination must be a directory and end with a /`, { location: loc });
  }

  const layer = await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
    const owner = instr.chown ? await chownOf(rootfs, expandWord(instr.chown, vars), loc) : { uid: 0, gid: 0 };
    const opts = { owner, ignore: ctx.ignore, ...(mode !== undefined ? { mode } : {}) };
    const existingDir = await isDirInRoot(rootfs, dest);
    for (const src of selected) {
      const hostSrc = src.host;
      if (instr.kind === "add" && !src.isDir && (await isArchive(hostSrc))) {
        await extractArchiveInto(hostSrc, rootfs, dest, ctx.layerEnv.tmpDir);
        continue;
      }
      if (src.isDir) {
        await copyIntoRoot(rootfs, hostSrc, src.rel, dest, opts);
      } else {
        const target = destIsDir || existingDir ? path.posix.join(dest, path.posix.basename(src.rel)) : dest;
        if (destIsDir) await ensureDir(rootfs, dest, owner);
        await copyIntoRoot(rootfs, hostSrc, src.rel, target, opts);
      }
    }
  });
  return withLayer(state, layer, historyFor(ctx, `${instr.original} # buildkit`));
}

async function isDirInRoot(rootfs: string, p: string): Promise<boolean> {
  try {
    return (await lstat(await resolveInRoot(rootfs, p))).isDirectory();
  } catch {
    return false;
  }
}

/** --chown=user[:group]: names from the image; a bare user keeps gid = uid for numbers, the user's group for names. */
async function chownOf(rootfs: string, spec: string, loc: ReturnType<typeof locationOf>): Promise<Ownership> {
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

function parseChmod(value: string, loc: ReturnType<typeof locationOf>): number {
  if (!/^[0-7]{3,4}$/.test(value)) {
    throw new KilnError("INVALID_CHMOD", `invalid --chmod=${value}: expected an octal mode such as 755 or 0644`, { location: loc });
  }
  return parseInt(value, 8);
}
