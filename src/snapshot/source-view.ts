// Where COPY reads from: the build context, or for --from a read-only
// overlay view of another stage's (or an image's) layers, mounted for the
// step and unmounted after it. Paths resolve inside the view, so a
// symlink in the source stage cannot point a read at the host.
import { mkdir, rmdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { ignoreMatcher, type IgnoreMatcher } from "../context/dockerignore.js";
import { mountReadOnlyView, unmount } from "./overlay.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import type { LayerStepEnv } from "./layer-step.js";

export interface SourceView {
  /** "layers": a stage's or image's filesystem, whose owners a copy keeps; "context": a directory of the user's. */
  readonly kind: "context" | "layers";
  readonly dir: string;
  readonly ignore: IgnoreMatcher;
  close(): Promise<void>;
}

/** What COPY --from / RUN --mount=from= names: a stage's or image's layers, or a directory (--build-context NAME=DIR). */
export type FromSource =
  | { readonly kind: "layers"; readonly layers: readonly LayerRecord[] }
  | { readonly kind: "dir"; readonly dir: string; readonly ignore: IgnoreMatcher };

export async function openFromSource(env: LayerStepEnv, src: FromSource): Promise<SourceView> {
  return src.kind === "dir" ? contextView(src.dir, src.ignore) : layersView(env, src.layers);
}

export function contextView(dir: string, ignore: IgnoreMatcher): SourceView {
  return { kind: "context", dir, ignore, close: async () => {} };
}

export async function layersView(env: LayerStepEnv, layers: readonly LayerRecord[]): Promise<SourceView> {
  const dir = path.join(env.tmpDir, `from-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(dir);
  // .dockerignore is about the context; another stage is copied as it is.
  const none = ignoreMatcher([]);
  if (layers.length === 0) return { kind: "layers", dir, ignore: none, close: () => rmdir(dir) };
  try {
    await env.ensureChain?.(layers);
    await mountReadOnlyView(env.snapshots.lowerDirs(layers.map((l) => l.chainId)), dir);
  } catch (err) {
    await rmdir(dir).catch(() => {});
    throw err;
  }
  return {
    kind: "layers",
    dir,
    ignore: none,
    close: async () => {
      await unmount(dir);
      await rmdir(dir);
    },
  };
}
