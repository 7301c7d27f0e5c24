// remoteLayers "on-demand": a layer that lives in a registry (a lazily
// resolved base's, a --cache-from hit's) stays there until something needs
// it. A cache hit needs only to know where its layer is; a step that runs
// needs the filesystem below it (every missing snapshot of its chain is
// fetched, in parallel, then unpacked in order, each diffID checked); the
// image's manifest needs each layer's blob descriptor, and a layer still in
// a registry is recorded as such (store/remote-blobs.ts), so the push that
// follows mounts or skips it and an export fetches it.
import type { LazyLayers } from "./lazy-layers.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { mapLimit } from "../registry/limit.js";
import type { Lease } from "../store/leases.js";
import { recordRemoteBlob } from "../store/remote-blobs.js";
import type { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import { ensureLayerBlob, knownBlob, recordedBlob, recordLayerBlob } from "../snapshot/layer-blobs.js";
import { unpackLayer } from "../snapshot/unpack-layer.js";
import type { LayerCompression } from "../snapshot/compress.js";

export class OnDemandLayers {
  readonly #store: Store;
  readonly #snapshots: SnapshotIndex;
  readonly #lazy: LazyLayers;
  readonly #gcLocked: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #lease: Lease;
  readonly #fetchRemote: (blob: Descriptor) => Promise<void>;
  /** One unpack per chain at a time, shared by steps that need it at once. */
  readonly #unpacking = new Map<Digest, Promise<void>>();

  constructor(o: {
    store: Store;
    snapshots: SnapshotIndex;
    lazy: LazyLayers;
    gcLocked: <T>(fn: () => Promise<T>) => Promise<T>;
    lease: Lease;
    fetchRemote: (blob: Descriptor) => Promise<void>;
  }) {
    this.#store = o.store;
    this.#snapshots = o.snapshots;
    this.#lazy = o.lazy;
    this.#gcLocked = o.gcLocked;
    this.#lease = o.lease;
    this.#fetchRemote = o.fetchRemote;
  }

  /** A cache hit on `diffId` can be used: its snapshot, its blob, or an offer of it exists. Nothing is fetched. */
  async claim(chainId: Digest, diffId: Digest): Promise<boolean> {
    return this.#gcLocked(async () => {
      const usable = (await this.#snapshots.get(chainId)) !== undefined || (await recordedBlob(this.#store, diffId)) !== undefined || this.#lazy.peek(diffId) !== undefined;
      if (usable) await this.#lease.add([chainId]);
      return usable;
    });
  }

  /** Every snapshot of `layers` exists when this returns: missing blobs fetched (in parallel), then unpacked bottom-up. */
  async ensureChain(layers: readonly LayerRecord[]): Promise<void> {
    const missing: number[] = [];
    for (let i = layers.length - 1; i >= 0; i--) {
      if (await this.#snapshots.get(layers[i]!.chainId)) break;
      missing.unshift(i);
    }
    if (!missing.length) return;
    // Downloads outside the GC lock: they can take long (as prefetchLayer).
    const blobs = await mapLimit(missing, 4, (i) => this.#blobOf(layers[i]!.diffId));
    for (const [k, i] of missing.entries()) {
      const l = layers[i]!;
      let p = this.#unpacking.get(l.chainId);
      if (!p) {
        p = this.#unpack(l, i === 0 ? null : layers[i - 1]!.chainId, blobs[k]!).finally(() => this.#unpacking.delete(l.chainId));
        this.#unpacking.set(l.chainId, p);
      }
      await p;
    }
  }

  /** The blob descriptor the image's manifest lists for `layer`: a layer still in a registry stays there, recorded as such. */
  async manifestBlob(layer: LayerRecord, compression?: LayerCompression): Promise<Descriptor> {
    const recorded = await recordedBlob(this.#store, layer.diffId);
    if (recorded) return recorded;
    const offer = this.#lazy.peek(layer.diffId);
    if (offer && !(await this.#snapshots.get(layer.chainId))) {
      if (offer.source.origin) {
        if (!(await this.#store.hasBlob(offer.blob.digest))) await recordRemoteBlob(this.#store.paths, offer.blob.digest, offer.source.origin);
        await recordLayerBlob(this.#store, layer.diffId, offer.blob);
        return offer.blob;
      }
      const fetched = await this.#lazy.blob(layer.diffId);
      if (fetched) {
        await recordLayerBlob(this.#store, layer.diffId, fetched);
        return fetched;
      }
    }
    return ensureLayerBlob(this.#store, this.#snapshots, layer, compression ? { compression } : {});
  }

  async #blobOf(diffId: Digest): Promise<Descriptor> {
    const known = await knownBlob(this.#store, diffId);
    if (known) return known;
    const recorded = await recordedBlob(this.#store, diffId);
    if (recorded) {
      await this.#fetchRemote(recorded);
      return recorded;
    }
    const offered = await this.#lazy.blob(diffId);
    if (offered) return offered;
    throw new KilnError("LAYER_UNAVAILABLE", `layer ${diffId} is needed to run a step, but no registry or cache could deliver it`, {
      hint: "check the warnings above; rerun with --no-cache to rebuild the layers",
    });
  }

  async #unpack(layer: LayerRecord, parent: Digest | null, blob: Descriptor): Promise<void> {
    await this.#gcLocked(async () => {
      if (await this.#snapshots.get(layer.chainId)) return;
      const got = await unpackLayer(this.#store, this.#snapshots, blob.digest, parent, layer.diffId);
      if (got !== layer.diffId) {
        throw new KilnError("DIGEST_MISMATCH", `layer ${blob.digest} unpacks to ${got}, but the image says ${layer.diffId}`);
      }
      await recordLayerBlob(this.#store, layer.diffId, blob);
      await this.#lease.add([layer.chainId]);
    });
  }
}
