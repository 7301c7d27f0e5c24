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
import type { ClientOptions } from "../registry/client.js";

export interface BaseImageOptions {
  /** --pull: ask the registry even when the store has the name. */
  readonly pull: boolean;
  /** Registry access, with the build's abort signal. */
  readonly client: ClientOptions;
  /** Told after a pull ("pulled busybox:latest (sha256:…) from host"). */
  readonly info: (message: string) => void;
  /** Leave the layers in the registry (remoteLayers "on-demand"): only the manifest and config come now. */
  readonly onDemand: boolean;
}

/** `origin`: set when the layers were left in the registry (remoteLayers "on-demand"): where to fetch them. */
export async function baseImage(
  store: Store,
  name: string,
  want: Platform,
  opts: BaseImageOptions,
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
  const lazy = opts.onDemand;
  const { pullImage } = await import("../registry/pull.js");
  const { familiarReference, parseReference } = await import("../oci/reference.js");
  let host = "";
  try {
    const r = await pullImage({
      ...opts.client,
      store,
      ref: name,
      platform: want,
      ...(lazy ? { blobs: "config" as const } : {}),
      onEvent: (e) => {
        if (e.type === "resolved") host = e.host;
      },
    });
    const ref = parseReference(r.reference);
    opts.info(`${lazy ? "resolved" : "pulled"} ${familiarReference(ref)} (${r.manifestDescriptor.digest}) from ${host}`);
    return lazy ? { ...r, origin: { registry: ref.registry, repository: ref.repository } } : r;
  } catch (e) {
    if (opts.client.signal?.aborted) throw e;
    const err = e as KilnError;
    throw new KilnError(err.code ?? "PULL_FAILED", `base image "${name}" ${missing}, and pulling it failed: ${err.message}`, {
      location,
      cause: e,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
}
