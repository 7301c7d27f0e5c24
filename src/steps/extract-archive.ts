// ADD's archive rule: a local tar (plain, gzip, bzip2, xz or zstd) is
// unpacked into the destination instead of copied. The archive is first
// extracted into scratch space with the layer extractor (which refuses
// entries that escape), then merged into the root with copyIntoRoot, so an
// image's symlinks cannot redirect it either.
import { spawn } from "node:child_process";
import { constants, createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { decompressedStream, extractLayer } from "../snapshot/extract.js";
import { copyIntoRoot, type Ownership } from "./copy-into-root.js";

const MAGIC: { kind: string; bytes: number[]; tool?: string[] }[] = [
  { kind: "gzip", bytes: [0x1f, 0x8b] },
  { kind: "zstd", bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { kind: "bzip2", bytes: [0x42, 0x5a, 0x68], tool: ["bzip2", "-dc"] },
  { kind: "xz", bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: ["xz", "-dc"] },
];

// The first bytes of a context file; empty for anything but a regular file,
// so ADD of a FIFO or a device is never waited on or read (it is not an archive).
async function head(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ELOOP") return undefined;
    throw err;
  });
  if (!fh) return Buffer.alloc(0);
  try {
    if (!(await fh.stat()).isFile()) return Buffer.alloc(0);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function compressionOf(h: Buffer): (typeof MAGIC)[number] | undefined {
  return MAGIC.find((m) => m.bytes.every((b, i) => h[i] === b));
}

async function decompressed(file: string): Promise<Readable> {
  const m = compressionOf(await head(file, 8));
  if (m?.tool) {
    const child = spawn(m.tool[0]!, [...m.tool.slice(1), file], { stdio: ["ignore", "pipe", "ignore"] });
    return child.stdout;
  }
  return decompressedStream(createReadStream(file));
}

/** True when the file is a tar archive, possibly compressed. */
export async function isArchive(file: string): Promise<boolean> {
  const h = await head(file, 512);
  if (h.length === 512 && h.subarray(257, 262).toString("latin1") === "ustar") return true;
  if (!compressionOf(h)) return false;
  // Compressed: look at the first decompressed block.
  const stream = await decompressed(file);
  const first = await new Promise<Buffer>((resolve) => {
    let buf = Buffer.alloc(0);
    stream.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 512) {
        stream.destroy();
        resolve(buf);
      }
    });
    stream.on("error", () => resolve(buf));
    stream.on("close", () => resolve(buf));
    stream.on("end", () => resolve(buf));
  });
  return first.length >= 512 && first.subarray(257, 262).toString("latin1") === "ustar";
}

/** Unpacks into the root at destInImage; entries keep their owners unless `owner` (ADD --chown) is given. */
export async function extractArchiveInto(archive: string, root: string, destInImage: string, tmpDir: string, owner: Ownership | "preserve" = "preserve"): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpDir, `add-${process.pid}-`));
  try {
    await extractLayer(await decompressed(archive), scratch, archive);
    await copyIntoRoot(root, scratch, "", destInImage, { owner });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
