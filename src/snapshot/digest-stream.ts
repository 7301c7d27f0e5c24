// sha256 of a byte stream while it flows: the diffID of a layer tar and the
// digest of its compressed blob are computed in the same pass that writes
// it, never by reading a file back.
import { createHash, type Hash } from "node:crypto";
import { Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestFromHex, type Digest } from "../oci/digest.js";
import { layerTarStream, type LayerTarOptions } from "./diff.js";

/** A pass-through that hashes and counts what goes through it. */
export class DigestStream extends Transform {
  readonly #hash: Hash = createHash("sha256");
  #size = 0;
  #digest: Digest | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#digest = digestFromHex(this.#hash.digest("hex"));
    cb();
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** The sha256 of everything that went through; only after the stream finished. */
  get digest(): Digest {
    if (this.#digest === null) throw new Error("DigestStream: digest read before the stream finished");
    return this.#digest;
  }
}

/** A sink that only hashes (for the diffID of a layer nobody needs the bytes of yet). */
class HashSink extends Writable {
  readonly hash: Hash = createHash("sha256");
  size = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb();
  }
}

/** diffID and size of the layer tar of `upper`, streamed into the hash only. */
export async function layerTarDigest(upper: string, opts: LayerTarOptions = {}): Promise<{ diffId: Digest; size: number }> {
  const sink = new HashSink({ highWaterMark: 1 << 20 });
  await pipeline(layerTarStream(upper, opts), sink, opts.signal ? { signal: opts.signal } : {});
  return { diffId: digestFromHex(sink.hash.digest("hex")), size: sink.size };
}
