// Benchmark (not a test): the SBOM scan `--sbom=true` runs on every build's
// final filesystem, over the Debian minbase tree setup.sh makes with
// mmdebstrap (~100 packages, ~8,700 entries): cold (first walk after
// extraction) and warm, with the SPDX document's size.
//   node dist/bench/sbom-scan.js [ROOTFS.tar]
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { scanRootfs, spdxDocument } from "../attest/sbom/index.js";

const tarball = process.argv[2] ?? "/var/cache/kiln/debian-bookworm-minbase.tar";

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-sbombench-"));
  try {
    execFileSync("tar", ["-xf", tarball, "-C", root]);
    execFileSync("sh", ["-c", "echo 3 > /proc/sys/vm/drop_caches"], { stdio: "ignore" });
    let t = performance.now();
    const packages = await scanRootfs(root);
    const cold = performance.now() - t;
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      await scanRootfs(root);
      runs.push(performance.now() - t);
    }
    runs.sort((a, b) => a - b);
    t = performance.now();
    const doc = JSON.stringify(spdxDocument({ name: "bench", packages, created: new Date(0).toISOString(), namespaceSeed: "bench", creatorTool: "kiln-bench" }));
    const spdxMs = performance.now() - t;
    console.log(`sbom scan of ${path.basename(tarball)}: ${packages.length} packages; cold ${cold.toFixed(0)} ms, warm median ${runs[2]!.toFixed(0)} ms; SPDX document ${(doc.length / 1024).toFixed(0)} KiB in ${spdxMs.toFixed(1)} ms`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
