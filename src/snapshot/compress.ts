// Turns an upper dir into a compressed layer blob in ONE streaming pass:
//   tar → sha256 (diffID) → compressor → sha256 (blob digest) → temp file
//   → fsync → rename to destDir/<hex>.
// Compression is kiln's hot path. Measured on this machine (2 cores, see
// src/bench/snapshot-compress.ts), pigz beats node:zlib and fflate by using
// every core, so gzip defaults to pigz when it is on PATH and to node:zlib
// otherwise (fflate is kept as an option, it is slower than zlib here).
//
// All gzip variants write no name and mtime 0 in the gzip header, so the
// output is deterministic for a given implementation and level. Different
// implementations produce different (equally valid) bytes, so the blob
// digest depends on the compressor; the diffID never does.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { addAbortSignal, Transform, type Readable, type TransformCallback, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip, constants as zc } from "node:zlib";
import type { Gzip as FflateGzip } from "fflate";
import { digestHex, type Digest } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import { KilnError } from "../util/errors.js";
import { layerTarStream, type LayerTarOptions } from "./diff.js";
import { DigestStream } from "./digest-stream.js";
import { timePhase } from "../util/phases.js";

export type GzipImpl = "auto" | "pigz" | "zlib" | "fflate";

export type LayerCompression =
  | { kind: "gzip"; impl?: GzipImpl; level?: number }
  | { kind: "zstd"; level?: number }
  | { kind: "none" };

export interface CompressOptions extends LayerTarOptions {
  /** Default: gzip, level 6 (what docker and buildkit use), fastest available implementation. */
  compression?: LayerCompression;
}

export interface CompressedLayer {
  digest: Digest;
  size: number;
  diffId: Digest;
  /** Size of the uncompressed tar. */
  diffSize: number;
  mediaType: string;
}

let pigzPresent: boolean | undefined;

/** Whether `pigz` can be spawned (checked once per process). */
export function hasPigz(): boolean {
  pigzPresent ??= spawnSync("pigz", ["--version"], { stdio: "ignore" }).status === 0;
  return pigzPresent;
}

/** The gzip implementation "auto" resolves to here. */
export function defaultGzipImpl(): Exclude<GzipImpl, "auto"> {
  return hasPigz() ? "pigz" : "zlib";
}

export async function compressLayer(upper: string, destDir: string, opts: CompressOptions = {}): Promise<CompressedLayer> {
  const c = opts.compression ?? { kind: "gzip" };
  const tmp = path.join(destDir, `.tmp-layer-${process.pid}-${randomBytes(6).toString("hex")}`);
  const tarHash = new DigestStream({ highWaterMark: 1 << 20 });
  const blobHash = new DigestStream({ highWaterMark: 1 << 20 });
  try {
    // The stream's time is the whole pass: tar, both digests, compressor, write.
    const tar = layerTarStream(upper, { phase: `tar+${c.kind === "none" ? "digest" : c.kind}+write`, ...opts });
    // Destroying the source on abort fails every pipeline below (pigz is killed).
    if (opts.signal) addAbortSignal(opts.signal, tar);
    const file = createWriteStream(tmp, { flags: "wx", mode: 0o644, highWaterMark: 1 << 20 });
    await compressInto(c, tar, tarHash, blobHash, file);
    // fsync acts on the inode, so a second descriptor flushes what the stream wrote.
    await timePhase("fsync", async () => {
      const fh = await open(tmp, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const digest = blobHash.digest;
  const final = path.join(destDir, digestHex(digest));
  if (await stat(final).then(() => true, () => false)) {
    await rm(tmp, { force: true }); // same content already there
  } else {
    await rename(tmp, final);
    await syncDir(destDir);
  }
  return {
    digest,
    size: blobHash.size,
    diffId: tarHash.digest,
    diffSize: tarHash.size,
    mediaType: c.kind === "gzip" ? MediaType.ociLayerGzip : c.kind === "zstd" ? MediaType.ociLayerZstd : MediaType.ociLayer,
  };
}

async function compressInto(c: LayerCompression, tar: Readable, tarHash: DigestStream, blobHash: DigestStream, out: Writable): Promise<void> {
  if (c.kind === "none") return pipeline(tar, tarHash, blobHash, out);
  if (c.kind === "zstd") {
    // -T0: all cores; --no-check would save 4 bytes but registries accept either.
    return throughProcess("zstd", ["-q", "-c", `-${c.level ?? 3}`, "-T0"], tar, tarHash, blobHash, out);
  }
  const level = c.level ?? 6;
  const impl = c.impl === undefined || c.impl === "auto" ? defaultGzipImpl() : c.impl;
  switch (impl) {
    case "pigz":
      // -n: no name/mtime in the header (deterministic); -p: every core.
      return throughProcess("pigz", ["-c", "-n", `-${level}`, "-p", String(os.availableParallelism())], tar, tarHash, blobHash, out);
    case "zlib":
      return pipeline(tar, tarHash, createGzip({ level, chunkSize: 1 << 16, strategy: zc.Z_DEFAULT_STRATEGY }), blobHash, out);
    case "fflate":
      return pipeline(tar, tarHash, fflateGzip(level, (await import("fflate")).Gzip), blobHash, out);
  }
}

/** fflate's streaming gzip as a Transform; mtime 0 keeps the header deterministic. */
// fflate is loaded only when asked for: it is not the default, and every
// kiln start would pay for it.
function fflateGzip(level: number, Gzip: typeof FflateGzip): Transform {
  let gz: FflateGzip;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        gz.push(chunk, false);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        gz.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  gz = new Gzip({ level: level as 6, mtime: 0 }, (data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return t;
}

/** Runs `tar → tarHash → cmd → blobHash → out`, where cmd compresses stdin to stdout. */
async function throughProcess(
  cmd: string,
  args: string[],
  tar: Readable,
  tarHash: DigestStream,
  blobHash: DigestStream,
  out: Writable,
): Promise<void> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (err) => reject(new KilnError("COMMAND_FAILED", `${cmd}: ${err.message}`, { cause: err })));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new KilnError("COMMAND_FAILED", `${cmd} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
  try {
    await Promise.all([pipeline(tar, tarHash, child.stdin), pipeline(child.stdout, blobHash, out), exited]);
  } catch (err) {
    child.kill("SIGKILL");
    tar.destroy();
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  // The rename is only durable once the directory entry is on disk.
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
