// Benchmark (not a test): how fast an upper dir becomes a layer. Builds a
// ~200 MB tree (half random bytes, half text), then times the tar+diffID
// pass alone, compressLayer with each compressor, and `tar -c | gzip` of
// the same tree as a baseline. Prints MB/s of uncompressed tar per second.
//   npx tsc -p . && node dist/bench/snapshot-compress.js [MB]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { compressLayer, hasPigz, type LayerCompression } from "../snapshot/compress.js";
import { layerTarDigest } from "../snapshot/digest-stream.js";

const WORDS = "the quick brown fox jumps over lazy dog kiln layer overlay snapshot digest compress stream tar gzip zstd image build cache registry manifest".split(" ");

function text(bytes: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  const rnd = randomBytes(bytes / 4);
  let i = 0;
  while (n < bytes) {
    const w = `${WORDS[rnd[i++ % rnd.length]! % WORDS.length]!}${i % 13 === 0 ? "\n" : " "}`;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join("").slice(0, bytes));
}

async function buildTree(root: string, totalMB: number): Promise<void> {
  const half = (totalMB * 1024 * 1024) / 2;
  let made = 0;
  for (let d = 0; made < half; d++) {
    const dir = path.join(root, "random", String(d));
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 20 && made < half; f++) {
      const size = 1024 * 1024 + f * 4096;
      await writeFile(path.join(dir, `blob${f}.bin`), randomBytes(size));
      made += size;
    }
  }
  made = 0;
  for (let d = 0; made < half; d++) {
    const dir = path.join(root, "text", String(d));
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 100 && made < half; f++) {
      const size = 4096 + ((f * 7919) % 200_000);
      await writeFile(path.join(dir, `file${f}.txt`), text(size));
      made += size;
    }
  }
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

function line(label: string, tarBytes: number, secs: number, outBytes?: number): void {
  const mbps = tarBytes / 1024 / 1024 / secs;
  const ratio = outBytes === undefined ? "" : `  ratio ${(outBytes / tarBytes).toFixed(3)}`;
  console.log(`${label.padEnd(34)} ${secs.toFixed(2).padStart(7)} s  ${mbps.toFixed(1).padStart(7)} MB/s${ratio}`);
}

async function main(): Promise<void> {
  const totalMB = Number(process.argv[2] ?? 200);
  const base = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-"));
  try {
    const tree = path.join(base, "tree");
    await mkdir(tree);
    await buildTree(tree, totalMB);
    execFileSync("sync");
    console.log(`tree: ~${totalMB} MB (half random, half text), ${os.availableParallelism()} cores, pigz ${hasPigz() ? "present" : "absent"}`);
    // Warm the page cache so every run reads from memory.
    await layerTarDigest(tree);
    const [{ size: tarBytes }, tTar] = await time(() => layerTarDigest(tree));
    line("tar + diffID (no compression)", tarBytes, tTar);
    const runs: [string, LayerCompression][] = [
      ["compressLayer none (tar blob)", { kind: "none" }],
      ["compressLayer gzip node:zlib -6", { kind: "gzip", impl: "zlib" }],
      ["compressLayer gzip fflate -6", { kind: "gzip", impl: "fflate" }],
      ["compressLayer gzip pigz -6", { kind: "gzip", impl: "pigz" }],
      ["compressLayer gzip node:zlib -1", { kind: "gzip", impl: "zlib", level: 1 }],
      ["compressLayer gzip pigz -1", { kind: "gzip", impl: "pigz", level: 1 }],
      ["compressLayer zstd -3", { kind: "zstd" }],
    ];
    for (const [label, compression] of runs) {
      if (compression.kind === "gzip" && compression.impl === "pigz" && !hasPigz()) continue;
      const out = path.join(base, `out-${runs.indexOf(runs.find((r) => r[0] === label)!)}`);
      await mkdir(out);
      const [r, secs] = await time(() => compressLayer(tree, out, { compression }));
      line(label, tarBytes, secs, r.size);
      await rm(out, { recursive: true, force: true });
    }
    const [, tGnu] = await time(async () => execFileSync("sh", ["-c", `tar -C '${tree}' -cf - . | gzip -6 > /dev/null`]));
    line("baseline: tar -c | gzip -6", tarBytes, tGnu);
    if (hasPigz()) {
      const [, tGnuP] = await time(async () => execFileSync("sh", ["-c", `tar -C '${tree}' -cf - . | pigz -6 -n > /dev/null`]));
      line("baseline: tar -c | pigz -6", tarBytes, tGnuP);
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

await main();
