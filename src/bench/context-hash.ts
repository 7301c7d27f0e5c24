// Benchmark (not a test): hashing a 1 GB / 20,000-file build context the way
// COPY . /app does (every file's bytes, modes, owners), cold and then warm
// (stat memo), with peak RSS, beside sha256's own speed on this machine.
//   node dist/bench/context-hash.js [MB] [FILES]
import { createHash, randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { digestSources } from "../cache/content-digest.js";
import { StatMemo } from "../cache/stat-memo.js";
import { ignoreMatcher } from "../context/dockerignore.js";

const totalMB = Number(process.argv[2] ?? 1024);
const files = Number(process.argv[3] ?? 20000);

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-ctxbench-"));
  try {
    const per = Math.floor((totalMB * 1024 * 1024) / files);
    const buf = Buffer.alloc(per);
    for (let i = 0; i < files; i++) {
      const dir = path.join(root, `d${i % 100}`);
      if (i < 100) await mkdir(dir);
      randomFillSync(buf, 0, Math.min(per, 4096)); // distinct files, cheap to make
      await writeFile(path.join(dir, `f${i}.bin`), buf);
    }
    const bytes = per * files;
    const setupRssMiB = process.resourceUsage().maxRSS / 1024;
    // sha256 alone, in memory, for reference.
    const chunk = Buffer.alloc(1 << 20, 7);
    const h = createHash("sha256");
    let t = performance.now();
    for (let i = 0; i < 512; i++) h.update(chunk);
    h.digest();
    const shaMBs = 512 / ((performance.now() - t) / 1000);

    await new Promise((r) => setTimeout(r, 1500)); // let the files age past the racy-memo margin
    const memoFile = path.join(root, "memo.json");
    const selected = [{ rel: "", host: root, isDir: true }];
    t = performance.now();
    await digestSources(selected, ignoreMatcher([]), await StatMemo.load(memoFile)).then(async (d) => d);
    const cold = (performance.now() - t) / 1000;
    const memo = await StatMemo.load(memoFile);
    await digestSources(selected, ignoreMatcher([]), memo);
    await memo.save(root);
    t = performance.now();
    await digestSources(selected, ignoreMatcher([]), await StatMemo.load(memoFile));
    const warm = (performance.now() - t) / 1000;
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`context-hash: ${files} files, ${(bytes / 1e6).toFixed(0)} MB, ${os.availableParallelism()} cores`);
    console.log(`sha256 in memory (one core)          ${shaMBs.toFixed(0).padStart(6)} MB/s`);
    console.log(`kiln cold hash (page cache warm)     ${(bytes / 1e6 / cold).toFixed(0).padStart(6)} MB/s  ${cold.toFixed(2)} s`);
    console.log(`kiln warm hash (stat memo)           ${warm.toFixed(2).padStart(6)} s`);
    console.log(`peak RSS                             ${rssMiB.toFixed(0).padStart(6)} MiB (${setupRssMiB.toFixed(0)} MiB already after making the files)`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
