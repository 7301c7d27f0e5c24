// Benchmark (not a test): a real build whose RUN writes ~200 MB, then the two
// hot paths on that RUN's snapshot: snapshot -> tar + diffID, and the one-pass
// compression into a blob; beside them `tar -c | gzip` and `tar -c | pigz` of
// the same tree, in the same run. Prints wall seconds and MB/s.
//   npm run bench
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../build/build.js";
import { importRootfs } from "../import/rootfs-tarball.js";
import { compressLayer, hasPigz } from "../snapshot/compress.js";
import { layerTarDigest } from "../snapshot/digest-stream.js";
import { hostPlatform } from "../oci/platform.js";
import { chainIds, SnapshotIndex } from "../store/snapshot-index.js";
import { Store } from "../store/store.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  return fn().then((r) => [r, (performance.now() - t) / 1000]);
}

function line(label: string, secs: number, bytes: number): void {
  console.log(`${label.padEnd(42)} ${secs.toFixed(2).padStart(7)} s  ${(bytes / 1e6 / secs).toFixed(1).padStart(7)} MB/s`);
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-"));
  try {
    const store = await Store.open(root);
    const tarball = path.join(root, "busybox.tar.gz");
    execFileSync("bash", [path.join(repo, "scripts/busybox-rootfs.sh"), tarball]);
    await importRootfs({ store, file: tarball, name: "busybox:latest", platform: hostPlatform() });

    // Build without a tag or image output: RUN + snapshot + diffID only.
    const [result, buildSecs] = await timed(() =>
      build({ store, contextDir: path.join(repo, "testdata/bench-large"), outputs: [{ kind: "local", dest: path.join(root, "rootfs-out") }] }),
    );
    const diffIds = result.config.rootfs.diff_ids;
    const chain = chainIds(diffIds).at(-1)!;
    const snap = new SnapshotIndex(store.paths.snapshots).fsPath(chain);
    const [{ size }, tarSecs] = await timed(() => layerTarDigest(snap));
    console.log(`kiln build-large-run: RUN layer ${(size / 1e6).toFixed(0)} MB uncompressed, ${os.availableParallelism()} cores, pigz ${hasPigz() ? "present" : "absent"}`);
    line("kiln build (RUN + snapshot + diffID + local export)", buildSecs, size);
    line("kiln snapshot -> tar + diffID", tarSecs, size);
    const blobs = path.join(root, "bench-blobs");
    execFileSync("mkdir", ["-p", blobs]);
    const [, gzSecs] = await timed(() => compressLayer(snap, blobs));
    line("kiln snapshot -> tar + gzip blob (default)", gzSecs, size);
    const [, zlibSecs] = await timed(() => compressLayer(snap, blobs, { compression: { kind: "gzip", impl: "zlib" } }));
    line("kiln snapshot -> tar + gzip blob (node:zlib)", zlibSecs, size);
    const [, zstdSecs] = await timed(() => compressLayer(snap, blobs, { compression: { kind: "zstd" } }));
    line("kiln snapshot -> tar + zstd blob", zstdSecs, size);
    for (const [label, cmd] of [
      ["tar -c | gzip -6 (same tree)", `tar -C ${snap} -cf - . | gzip -6 > /dev/null`],
      ["tar -c | pigz -6 (same tree)", `tar -C ${snap} -cf - . | pigz -6 > /dev/null`],
    ] as const) {
      const t = performance.now();
      execFileSync("bash", ["-c", cmd]);
      line(label, (performance.now() - t) / 1000, size);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
