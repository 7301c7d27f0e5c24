// compressLayer on real files with every compressor: one pass gives the
// diffID (same as layerTarDigest), the blob digest of the file it renamed
// into place, and output that decompresses back to the exact layer tar.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile, utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compressLayer, type LayerCompression } from "../../src/snapshot/compress.js";
import { layerTarDigest, DigestStream } from "../../src/snapshot/digest-stream.js";
import { MediaType } from "../../src/oci/media-types.js";
import { tmp } from "./fs-helpers.js";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";

let base: string;
let src: string;

beforeAll(async () => {
  base = tmp("compress");
  src = path.join(base, "src");
  await mkdir(path.join(src, "a/b"), { recursive: true });
  for (let i = 0; i < 50; i++) await writeFile(path.join(src, "a", `text${i}`), `line ${i}\n`.repeat(2000));
  // ~2 MB of random bytes: big enough that pigz uses several blocks.
  const rnd = createHash("sha256");
  const chunks: Buffer[] = [];
  for (let i = 0; i < 65536; i++) chunks.push(rnd.update(String(i)).copy().digest());
  await writeFile(path.join(src, "a/b/random"), Buffer.concat(chunks));
  for (const p of readdirSync(path.join(src, "a"))) await utimes(path.join(src, "a", p), 1e9, 1e9);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function sha256File(p: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
}

const cases: [string, LayerCompression, string, string[]][] = [
  ["zlib", { kind: "gzip", impl: "zlib" }, MediaType.ociLayerGzip, ["gzip", "-dc"]],
  ["fflate", { kind: "gzip", impl: "fflate" }, MediaType.ociLayerGzip, ["gzip", "-dc"]],
  ["pigz", { kind: "gzip", impl: "pigz" }, MediaType.ociLayerGzip, ["gzip", "-dc"]],
  ["zstd", { kind: "zstd" }, MediaType.ociLayerZstd, ["zstd", "-dc"]],
  ["none", { kind: "none" }, MediaType.ociLayer, ["cat"]],
];

describe("compressLayer", () => {
  it("hashes a stream while passing it through", async () => {
    const d = new DigestStream();
    await pipeline(Readable.from([Buffer.from("abc")]), d, new Writable({ write: (_c, _e, cb) => cb() }));
    expect(d.digest).toBe("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(d.size).toBe(3);
  });

  for (const [label, compression, mediaType, decompress] of cases) {
    it(`${label}: one pass gives diffID, blob digest and a decodable blob`, async () => {
      const dest = path.join(base, `blobs-${label}`);
      await mkdir(dest);
      const { diffId, size } = await layerTarDigest(src);
      const r = await compressLayer(src, dest, { compression });
      expect(r.diffId).toBe(diffId);
      expect(r.diffSize).toBe(size);
      expect(r.mediaType).toBe(mediaType);
      expect(readdirSync(dest)).toEqual([r.digest.slice(7)]); // temp file gone
      const blob = path.join(dest, r.digest.slice(7));
      expect(sha256File(blob)).toBe(r.digest);
      expect(readFileSync(blob).length).toBe(r.size);
      const tar = execFileSync(decompress[0]!, [...decompress.slice(1), blob], { maxBuffer: 64 << 20 });
      expect(`sha256:${createHash("sha256").update(tar).digest("hex")}`).toBe(diffId);
      // Deterministic: again gives the same blob (and reuses the file).
      const again = await compressLayer(src, dest, { compression });
      expect(again.digest).toBe(r.digest);
      expect(readdirSync(dest)).toHaveLength(1);
    });
  }

  it("gzip headers carry no name and no mtime, and are the same whichever gzip wrote them", async () => {
    // pigz stamps its input's mtime (a real pipe's is the current time) unless given -n.
    for (const impl of ["zlib", "fflate", "pigz"] as const) {
      const dest = path.join(base, `hdr-${impl}`);
      await mkdir(dest);
      const r = await compressLayer(src, dest, { compression: { kind: "gzip", impl } });
      const head = readFileSync(path.join(dest, r.digest.slice(7))).subarray(0, 10);
      // magic, deflate, flags 0 (no FNAME, FCOMMENT, FEXTRA), MTIME 0, XFL 0 (level 6), OS 3 (unix)
      expect([impl, ...head]).toEqual([impl, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    }
  });

  it("the default gzip is node:zlib whatever is on PATH: the same blob with or without pigz installed", async () => {
    const dest = path.join(base, "default-gzip");
    await mkdir(dest);
    const byDefault = await compressLayer(src, dest);
    const zlib = await compressLayer(src, dest, { compression: { kind: "gzip", impl: "zlib" } });
    const pigz = await compressLayer(src, dest, { compression: { kind: "gzip", impl: "pigz" } });
    expect(byDefault.digest).toBe(zlib.digest);
    // pigz (present here) writes other bytes: following PATH would change digests between hosts.
    expect(pigz.digest).not.toBe(zlib.digest);
  });

  it("zstd: the same bytes at a fixed level whatever the worker count, and the level is honoured", async () => {
    const dest = path.join(base, "zstd-levels");
    await mkdir(dest);
    const l3 = await compressLayer(src, dest, { compression: { kind: "zstd", level: 3 } });
    const again = await compressLayer(src, dest, { compression: { kind: "zstd" } });
    expect(again.digest).toBe(l3.digest);
    const tar = execFileSync("bash", ["-c", `zstd -dc ${path.join(dest, l3.digest.slice(7))}`], { maxBuffer: 64 << 20 });
    for (const t of ["-T1", "-T2"]) {
      expect(`sha256:${createHash("sha256").update(execFileSync("zstd", ["-q", "-c", "-3", t], { input: tar, maxBuffer: 64 << 20 })).digest("hex")}`).toBe(l3.digest);
    }
    const l19 = await compressLayer(src, dest, { compression: { kind: "zstd", level: 19 } });
    expect(l19.digest).not.toBe(l3.digest);
    expect(l19.diffId).toBe(l3.diffId);
  });
});
