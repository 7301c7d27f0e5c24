// Content-addressed blobs under blobs/sha256/<hex>. Every blob is written to
// tmp/, fsynced, verified, and only then renamed into place, so a blob file
// that exists is always complete and matches its name.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, statSync } from "node:fs";
import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Digest, digestHex, parseDigest, sha256Digest } from "../oci/digest.js";
import type { ImageConfig } from "../oci/config.js";
import type { ImageIndex, ImageManifest } from "../oci/manifest.js";
import { validateConfig, validateIndex, validateManifest } from "../oci/validate.js";
import { KilnError } from "../util/errors.js";
import { commitFile, tempPath, writeTempFile } from "./durable-file.js";
import type { StorePaths } from "./root.js";

export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

export class BlobStore {
  readonly #paths: StorePaths;

  constructor(paths: StorePaths) {
    this.#paths = paths;
  }

  path(d: Digest): string {
    return join(this.#paths.blobs, "sha256", digestHex(parseDigest(d)));
  }

  async has(d: Digest): Promise<boolean> {
    return (await this.size(d)) !== undefined;
  }

  /** The blob's size, or undefined when it is absent. */
  // One stat(2) in the local store, a few µs: synchronous, since an async
  // stat is a thread-pool round trip, and a build asks this for every layer,
  // the config and the manifest (twice: write, then tag's completeness check).
  async size(d: Digest): Promise<number | undefined> {
    const st = statSync(this.path(d), { throwIfNoEntry: false });
    return st?.size;
  }

  async write(data: Uint8Array | string): Promise<BlobInfo> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const digest = sha256Digest(bytes);
    const info = { digest, size: bytes.byteLength };
    if ((await this.size(digest)) === info.size) return info;
    const tmp = await writeTempFile(this.#paths.tmp, bytes, "blob");
    await this.#commit(tmp, digest);
    return info;
  }

  /**
   * Stream `src` into the store, hashing as it goes. With `expected`, the
   * digest (and size, when given) must match or the blob is rejected with
   * DIGEST_MISMATCH and nothing is left behind. A stream longer than the
   * expected size is cut off as soon as it overruns. If the expected blob is
   * already present, `src` is destroyed unread.
   */
  async ingest(src: Readable, expected?: { digest: Digest; size?: number }): Promise<BlobInfo> {
    if (expected) {
      const have = await this.size(expected.digest);
      if (have !== undefined && (expected.size === undefined || expected.size === have)) {
        src.destroy();
        return { digest: expected.digest, size: have };
      }
    }
    const tmp = tempPath(this.#paths.tmp, "ingest");
    const hash = createHash("sha256");
    let size = 0;
    const limit = expected?.size;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (limit !== undefined && size > limit) {
          cb(mismatch(expected!.digest, `more than the expected ${limit} bytes`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(src, meter, createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true }));
      const digest = `sha256:${hash.digest("hex")}` as Digest;
      if (expected && digest !== expected.digest) throw mismatch(expected.digest, `got ${digest}`);
      if (limit !== undefined && size !== limit) throw mismatch(expected!.digest, `got ${size} bytes, expected ${limit}`);
      await this.#commit(tmp, digest);
      return { digest, size };
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /**
   * Move a temp file that the caller has already written, fsynced and hashed
   * (layer compression computes the digest in the same pass) into place.
   * The file must be on the store's filesystem, e.g. from `tempPath()`.
   */
  async adopt(tmpFile: string, digest: Digest): Promise<void> {
    await this.#commit(tmpFile, parseDigest(digest));
  }

  async read(d: Digest): Promise<Buffer> {
    try {
      return await readFile(this.path(d));
    } catch (e) {
      throw notFound(d, e);
    }
  }

  // JSON blobs (manifests, configs, indexes) are a few KB; a build reads its
  // base's and its own: synchronously, one open/read/close instead of four
  // thread-pool round trips each. Layers are never read this way.
  async readJson<T>(d: Digest): Promise<T> {
    let buf: Buffer;
    try {
      buf = readFileSync(this.path(d));
    } catch (e) {
      throw notFound(d, e);
    }
    try {
      return JSON.parse(buf.toString("utf8")) as T;
    } catch (e) {
      throw new KilnError("STORE_CORRUPT", `blob ${d} is not valid JSON`, { cause: e, hint: "run kiln store check" });
    }
  }

  /** readJson, checked to be an image manifest / index / config (see oci/validate). */
  async readManifest(d: Digest): Promise<ImageManifest> {
    return validateManifest(await this.readJson<unknown>(d), `manifest ${d}`);
  }
  async readIndex(d: Digest): Promise<ImageIndex> {
    return validateIndex(await this.readJson<unknown>(d), `image index ${d}`);
  }
  async readConfig(d: Digest): Promise<ImageConfig> {
    return validateConfig(await this.readJson<unknown>(d), `image config ${d}`);
  }

  /** A read stream of the blob; a missing blob is an ENOENT "error" event
   * (check `has()` first when that matters). */
  open(d: Digest): Readable {
    return createReadStream(this.path(d));
  }

  // Rename into place; the temp file is removed if that fails.
  async #commit(tmp: string, digest: Digest): Promise<void> {
    const dest = this.path(digest);
    try {
      try {
        await commitFile(tmp, dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        // blobs/sha256 was removed behind our back: recreate and retry once.
        await mkdir(join(this.#paths.blobs, "sha256"), { recursive: true });
        await commitFile(tmp, dest);
      }
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }
}

function mismatch(want: Digest, detail: string): KilnError {
  return new KilnError("DIGEST_MISMATCH", `content does not match ${want}: ${detail}`, {
    hint: "the source sent corrupt or different data; retry, and check the registry or file it came from",
  });
}

function notFound(d: Digest, cause: unknown): Error {
  if ((cause as NodeJS.ErrnoException | undefined)?.code !== "ENOENT") return cause as Error;
  return new KilnError("BLOB_NOT_FOUND", `blob ${d} is not in the store`, { cause });
}
