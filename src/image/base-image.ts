// The image a FROM, COPY --from=IMAGE, RUN --mount=from=IMAGE or a
// docker-image:// build context names: the local store's first (unless
// --pull), otherwise pulled on demand as docker does, unqualified names
// from docker.io (busybox -> docker.io/library/busybox:latest), through the
// configured mirrors. The registry client is loaded only when a pull is
// needed, so a build from local bases never pays for it.
import type { Platform } from "../oci/platform.js";
import type { RemoteOrigin } from "../store/remote-blobs.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError, type SourceLocation } from "../util/errors.js";
import type { EventSink } from "../build/events.js";
import { buildRegistryAccess, type BuildOptions } from "../build/options.js";

/** `origin`: set when the layers were left in the registry (remoteLayers "on-demand"): where to fetch them. */
export async function baseImage(
  store: Store,
  name: string,
  want: Platform,
  opts: Pick<BuildOptions, "pull" | "registry" | "signal" | "remoteLayers">,
  emit: EventSink,
  location: SourceLocation,
): Promise<ResolvedImage & { readonly origin?: RemoteOrigin }> {
  let missing = "is not in the local store";
  if (!opts.pull) {
    const local = await store.resolveImage(name, want).catch((e: unknown) => {
      // The store has the name but not this platform: pull that one.
      if ((e as { code?: string }).code !== "PLATFORM_NOT_FOUND") throw e;
      missing = `in the local store: ${(e as Error).message}`;
      return undefined;
    });
    if (local) return local;
  }
  // On demand: the manifest and config now, each layer when a step or an output needs it.
  const lazy = opts.remoteLayers === "on-demand";
  const { pullImage } = await import("../registry/pull.js");
  const { familiarReference, parseReference } = await import("../oci/reference.js");
  let host = "";
  try {
    const r = await pullImage({
      ...buildRegistryAccess(opts),
      store,
      ref: name,
      platform: want,
      ...(lazy ? { blobs: "config" as const } : {}),
      onEvent: (e) => {
        if (e.type === "resolved") host = e.host;
      },
    });
    const ref = parseReference(r.reference);
    emit({ kind: "info", message: `${lazy ? "resolved" : "pulled"} ${familiarReference(ref)} (${r.manifestDescriptor.digest}) from ${host}` });
    return lazy ? { ...r, origin: { registry: ref.registry, repository: ref.repository } } : r;
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    const err = e as KilnError;
    throw new KilnError(err.code ?? "PULL_FAILED", `base image "${name}" ${missing}, and pulling it failed: ${err.message}`, {
      location,
      cause: e,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
}
