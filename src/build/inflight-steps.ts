// Steps running right now, by cache key, across the per-platform builds of
// one `--platform a,b` build. The platforms build at the same time, and a
// stage that does not depend on the target (`FROM --platform=$BUILDPLATFORM`)
// gives every platform's build a step with the same key at about the same
// moment: the cache cannot answer the second one yet, because the first has
// not recorded its result. As BuildKit's solver merges identical vertices,
// the second waits here for the first to end and then reads its record like
// any other cache hit, so shared work runs once. (Within one build() the
// same holds for two identical stages running side by side.)
//
// Only who runs what is decided here; records, layers and errors stay with
// the caller. A run that fails leaves no record, and the waiter, finding
// none, runs the step itself (unless its build is stopping): a waiter never
// inherits an error that belongs to another platform's build.
import type { Digest } from "../oci/digest.js";

export class InflightSteps {
  readonly #running = new Map<Digest, Promise<void>>();

  /** The run of `key` under way, if any: settles, never rejects, when that run ends (done or failed). */
  running(key: Digest): Promise<void> | undefined {
    return this.#running.get(key);
  }

  /**
   * Marks `key` as running until the returned function is called (call it in
   * a finally, after the step's record is written, so a waiter that wakes up
   * finds the record). Throws if `key` is already running: callers check
   * running() first, with no await between the check and this call.
   */
  start(key: Digest): () => void {
    if (this.#running.has(key)) throw new Error(`internal: step ${key} is already running`);
    let end!: () => void;
    this.#running.set(key, new Promise<void>((resolve) => (end = resolve)));
    return () => {
      this.#running.delete(key);
      end();
    };
  }
}
