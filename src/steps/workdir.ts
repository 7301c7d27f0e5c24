// WORKDIR: relative to the previous one; the directory is created, as
// BuildKit does: a layer for any directory but "/", an empty one when the
// directory already existed (BuildKit's mkdir file op always commits one;
// measured against dockerd's BuildKit, differential case user-run); "/" is
// config only. Runs the resolved step (plan/resolve-copy.ts), the value its
// cache key is made of.
import { resolveUser } from "../exec/user.js";
import { ensureDir } from "./copy-into-root.js";
import type { ResolvedWorkdir } from "../plan/resolve-copy.js";
import { withLayer, type ImageState } from "../image/image-state.js";
import { runLayerStep } from "../snapshot/layer-step.js";
import { historyFor, type StepContext } from "./step-context.js";

export async function applyWorkdir(ctx: StepContext, state: ImageState, workdir: ResolvedWorkdir): Promise<ImageState> {
  const { dir } = workdir;
  const layer = dir === "/" ? null : await runLayerStep(ctx.layerEnv, state.layers, async (rootfs) => {
    // Owned by the current USER, as BuildKit creates it.
    const user = await resolveUser(rootfs, workdir.user).catch(() => ({ uid: 0, gid: 0 }));
    await ensureDir(rootfs, dir, { uid: user.uid, gid: user.gid });
  });
  return withLayer({ ...state, config: { ...state.config, WorkingDir: dir } }, layer, historyFor(ctx, workdir.createdBy));
}
