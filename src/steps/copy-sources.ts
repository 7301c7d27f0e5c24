// What each source of a resolved COPY/ADD reads, found once for both the
// key and the copy: the context's (or a named context's) files selected by
// each pattern, .dockerignore applied, with the content digest of exactly
// those; or --from's stage or image, identified by its chainID, whose
// files are selected in a read-only view when the step runs (the view is
// only mounted on a miss). URLs are fetched by the executor: their content
// is unknown before, and such a step is not cached.
import type { IgnoreMatcher } from "../context/dockerignore.js";
import { selectSources, type SelectedSource } from "../context/select-sources.js";
import { digestSources } from "../cache/content-digest.js";
import { digestFields } from "../cache/key.js";
import type { StatMemo } from "../cache/stat-memo.js";
import type { ResolvedCopy } from "../plan/resolve-copy.js";
import type { SourceLocation } from "../util/errors.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import type { FromSource } from "../snapshot/source-view.js";

export type CopyOrigin =
  /** The build context, or a named context directory (--build-context NAME=DIR): copied with root as owner. */
  | { readonly kind: "dir"; readonly dir: string; readonly ignore: IgnoreMatcher }
  /** Another stage's or an image's filesystem: copied keeping its owners. */
  | { readonly kind: "layers"; readonly layers: readonly LayerRecord[] };

export interface CopySources {
  readonly origin: CopyOrigin;
  /** Per source of the step (url sources: []); for "layers" the selection happens when the step runs. */
  readonly selected: readonly (readonly SelectedSource[])[];
  /** Per source, its content digest (copy-key.ts); undefined when a source is a URL. */
  readonly content?: readonly string[];
  /** Context files with a short fingerprint each (to explain a miss, for provenance). */
  readonly files?: Record<string, string>;
  /** --from: `from:NAME:DIGEST`, as a step record keeps it. */
  readonly from?: string;
}

export interface CopySourceEnv {
  readonly contextDir: string;
  readonly ignore: IgnoreMatcher;
  readonly memo: StatMemo;
  readonly fromSource: (name: string) => Promise<FromSource>;
}

export async function copySources(env: CopySourceEnv, copy: ResolvedCopy, loc: SourceLocation): Promise<CopySources> {
  const src: FromSource | undefined = copy.from !== undefined ? await env.fromSource(copy.from) : undefined;
  const hasUrl = copy.sources.some((s) => s.kind === "url");
  if (src?.kind === "layers") {
    // A stage's or image's filesystem is immutable for its chainID: that is its whole identity.
    const chainId = src.layers.at(-1)?.chainId ?? "";
    return { origin: src, selected: copy.sources.map(() => []), ...(hasUrl ? {} : { content: copy.sources.map(() => chainId) }), from: `from:${copy.from}:${chainId}` };
  }
  const origin: CopyOrigin = src ?? { kind: "dir", dir: env.contextDir, ignore: env.ignore };
  const selected: SelectedSource[][] = [];
  const digests: string[] = [];
  const files: Record<string, string> = {};
  for (const s of copy.sources) {
    if (s.kind === "url") {
      selected.push([]);
      continue;
    }
    const sel = await selectSources(origin.dir, s.pattern, origin.ignore, loc, copy.from);
    const d = await digestSources(sel, origin.ignore, env.memo);
    selected.push(sel);
    digests.push(d.digest);
    Object.assign(files, d.files);
  }
  return {
    origin,
    selected,
    ...(hasUrl ? {} : { content: digests }),
    // Files of a named context are not the build context's: they are not listed as such.
    ...(src === undefined ? (Object.keys(files).length ? { files } : {}) : { from: `from:${copy.from}:${combined(digests)}` }),
  };
}

/** One digest naming what a named context's selections hold, for the record's `from` (and provenance). */
function combined(digests: readonly string[]): string {
  return digests.length === 1 ? digests[0]! : digestFields(["from-dir", ...digests]);
}
