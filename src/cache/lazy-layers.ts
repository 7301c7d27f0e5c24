// --cache-from is lazy, as BuildKit's is: the import reads only the cache's
// manifest and step records, and a layer blob is fetched when a cache hit
// first needs it. A mode=max cache holds every stage's layers and a given
// build usually needs few of them (none after an early change).
//
// What is remembered here lives in memory for one build: a cache that is
// gone by the next build cannot make that build fail. A blob that cannot be
// fetched makes its step a miss (the step runs), never a failed build.
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import type { RemoteOrigin } from "../store/remote-blobs.js";

/** Where an imported cache's blobs can be fetched from: its directory or its registry. */
export interface BlobSource {
  /** For messages: the directory or the registry ref. */
  readonly name: string;
  /** Copies one blob into the store, verified against its digest (a no-op when the store has it). */
  fetch(blob: Descriptor): Promise<void>;
  /** A registry source: where its blobs live, so a push to that registry can mount them instead of moving bytes. */
  readonly origin?: RemoteOrigin;
}

interface Offer {
  readonly source: BlobSource;
  readonly blob: Descriptor;
}

export class LazyLayers {
  readonly #offers = new Map<Digest, Offer[]>();
  /** Sources that failed once: a registry that went away costs one timeout per build, not one per step. */
  readonly #broken = new Set<BlobSource>();
  /** Two stages hitting the same layer at once share one download. */
  readonly #inFlight = new Map<Digest, Promise<Descriptor | undefined>>();
  /** Where a skipped cache layer is reported (the build's warnings). */
  readonly #warn: (message: string) => void;

  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  /** Several --cache-from may offer one layer: they are tried in the order given. */
  offer(diffId: Digest, source: BlobSource, blob: Descriptor): void {
    const offers = this.#offers.get(diffId) ?? [];
    if (!offers.some((o) => o.source === source)) offers.push({ source, blob });
    this.#offers.set(diffId, offers);
  }

  has(diffId: Digest): boolean {
    return this.#offers.has(diffId);
  }

  /** The first offer of a source that has not failed, without fetching anything. */
  peek(diffId: Digest): { readonly source: BlobSource; readonly blob: Descriptor } | undefined {
    return this.#offers.get(diffId)?.find((o) => !this.#broken.has(o.source));
  }

  /** The layer's compressed blob, now in the store; undefined when no cache offers it or none could deliver it. */
  blob(diffId: Digest): Promise<Descriptor | undefined> {
    let p = this.#inFlight.get(diffId);
    if (!p) {
      p = this.#fetch(diffId).finally(() => this.#inFlight.delete(diffId));
      this.#inFlight.set(diffId, p);
    }
    return p;
  }

  /** The blob arrived intact but did not unpack to the diffID its cache announced: that cache is not used for it again. */
  reject(diffId: Digest, blob: Descriptor, got: Digest): void {
    const offers = this.#offers.get(diffId) ?? [];
    const bad = offers.find((o) => o.blob.digest === blob.digest);
    this.#offers.set(diffId, offers.filter((o) => o !== bad));
    this.#warn(`cache layer ${blob.digest} from ${bad?.source.name ?? "the imported cache"} unpacks to ${got}, not to ${diffId} as the cache says: the step runs instead`);
  }

  async #fetch(diffId: Digest): Promise<Descriptor | undefined> {
    for (const { source, blob } of this.#offers.get(diffId) ?? []) {
      if (this.#broken.has(source)) continue;
      try {
        await source.fetch(blob);
        return blob;
      } catch (err) {
        this.#broken.add(source);
        const why = err instanceof Error ? err.message : String(err);
        this.#warn(`cache layer ${blob.digest} could not be fetched from ${source.name} (${why}): the step runs instead, and this build tries no other layer from there`);
      }
    }
    return undefined;
  }
}
