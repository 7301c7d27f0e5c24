// What each bind mount of a resolved RUN reads, and the content digest of
// exactly that: the selected context path (.dockerignore applied), or the
// selected path of another stage's, an image's or a named context's
// filesystem. The key uses the digest (so an unrelated change in the
// source stage does not rerun the step, as BuildKit's content-based mount
// keys), the executor uses the source. A stage's or image's filesystem is
// immutable for its chainID, so its digest is remembered by chainID and
// path: a cached rebuild does not walk it again.
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ignoreMatcher, type IgnoreMatcher } from "../context/dockerignore.js";
import { selectSources } from "../context/select-sources.js";
import { digestSources } from "../cache/content-digest.js";
import { StatMemo } from "../cache/stat-memo.js";
import type { ResolvedRun } from "../plan/resolve-run.js";
import { resolveInRoot } from "../fsutil/resolve-in-root.js";
import { writeFileDurable } from "../store/durable-file.js";
import { KilnError, type SourceLocation } from "../util/errors.js";
import type { LayerStepEnv } from "../snapshot/layer-step.js";
import { layersView, type FromSource } from "../snapshot/source-view.js";

export interface MountSource {
  /** Where the mount's files are: the build context, or what from= names. */
  readonly from: FromSource | { readonly kind: "context" };
  /** The from= name, when not the context. */
  readonly name?: string;
  /** Content digest of the mounted path. */
  readonly digest: string;
  /** Context files with a short fingerprint each (to explain a miss). */
  readonly files?: Record<string, string>;
}

export interface MountSourceEnv {
  readonly contextDir: string;
  readonly ignore: IgnoreMatcher;
  readonly memo: StatMemo;
  readonly layerEnv: LayerStepEnv;
  /** Remembered digests of paths inside immutable chains. */
  readonly digestDir: string;
  readonly fromSource: (name: string) => Promise<FromSource>;
}

/** One entry per mount of `run` (undefined for mounts that read no files). */
export async function runMountSources(env: MountSourceEnv, run: ResolvedRun, loc: SourceLocation): Promise<(MountSource | undefined)[]> {
  const out: (MountSource | undefined)[] = [];
  for (const m of run.mounts) {
    if (m.type !== "bind") {
      out.push(undefined);
      continue;
    }
    if (m.from === undefined) {
      const selected = await selectSources(env.contextDir, m.source, env.ignore, loc);
      const d = await digestSources(selected, env.ignore, env.memo);
      out.push({ from: { kind: "context" }, digest: d.digest, files: d.files });
      continue;
    }
    const from = await env.fromSource(m.from);
    if (from.kind === "dir") {
      const selected = await selectSources(from.dir, m.source, from.ignore, loc);
      out.push({ from, name: m.from, digest: (await digestSources(selected, from.ignore, env.memo)).digest });
    } else {
      out.push({ from, name: m.from, digest: await layersPathDigest(env, from.layers, m.source, m.from, loc) });
    }
  }
  return out;
}

async function layersPathDigest(env: MountSourceEnv, layers: Extract<FromSource, { kind: "layers" }>["layers"], source: string, name: string, loc: SourceLocation): Promise<string> {
  const rel = path.posix.normalize(`/${source}`);
  const chainId = layers.at(-1)?.chainId ?? "";
  const memoFile = path.join(env.digestDir, createHash("sha256").update(`${chainId}\0${rel}`).digest("hex"));
  const known = await readFile(memoFile, "utf8").catch(() => undefined);
  if (known?.startsWith("sha256:")) return known.trim();
  const view = await layersView(env.layerEnv, layers);
  let digest: string;
  try {
    const host = await resolveInRoot(view.dir, rel);
    const st = await lstat(host).catch(() => undefined);
    if (!st) throw new KilnError("MOUNT_SOURCE_NOT_FOUND", `--mount=type=bind: source "${source}" not found in --from=${name}`, { location: loc });
    // The view's paths are new each time: a throwaway stat memo ("-" is never a digest file).
    const memo = await StatMemo.load(path.join(env.digestDir, "-"));
    digest = (await digestSources([{ rel: "", host, isDir: st.isDirectory() }], ignoreMatcher([]), memo)).digest;
  } finally {
    await view.close();
  }
  await mkdir(env.digestDir, { recursive: true, mode: 0o700 });
  await writeFileDurable(memoFile, digest);
  return digest;
}
