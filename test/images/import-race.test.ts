// Two `kiln import --platform P FILE busybox:latest` started at the same
// moment, one per platform, as a CI matrix's jobs sharing a store would: the
// name must end up an index of both platforms. Each import reads what the
// name points at, merges its platform in and tags the result; unserialised,
// the second tag overwrites the first and one platform is silently lost.
import { execFileSync, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { withStoreLock } from "../../src/store/lock.js";
import { BIN, requireBuilt } from "../helpers/bin.js";
import { REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const ROUNDS = 5;

/** `node bin/kiln.js ARGS` as its own process; resolves with its exit code and stderr. */
function kilnProcess(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** Resolves once `n` image manifests are in the store's blobs: each import then has only its tag left to write. */
async function manifestsWritten(root: string, n: number): Promise<void> {
  const dir = path.join(root, "blobs/sha256");
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) {
    let found = 0;
    for (const f of await readdir(dir).catch(() => [])) {
      const text = await readFile(path.join(dir, f), "utf8").catch(() => "");
      if (text.startsWith("{") && (JSON.parse(text) as { mediaType?: string }).mediaType === MediaType.ociManifest) found++;
    }
    if (found >= n) return;
  }
  throw new Error(`the imports did not write ${n} manifests into ${dir} within 60 s`);
}

describe("concurrent imports of two platforms under one name", () => {
  const ws = useWorkspace({ name: "import-race" });
  let tarball: string;
  beforeAll(async () => {
    await requireBuilt("src/store/image-index.ts", "src/import/rootfs-tarball.ts");
    // One rootfs for both platforms: import only labels it (nothing runs).
    tarball = path.join(ws.work, "busybox.tar.gz");
    execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball]);
  });

  it(`keep both platforms, ${ROUNDS} rounds out of ${ROUNDS}`, async () => {
    const outcomes: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const root = path.join(ws.work, `store-${round}`);
      // Left alone, the two imports reach their tags a few ms apart and lose
      // a platform about one round in twenty. A third writer of index.json
      // (here the test, taking the store's index lock as `kiln tag` does)
      // holds both up until each has read what the name points at, so they
      // meet at the tag every round.
      const imports = await withStoreLock(root, async () => {
        const started = ["linux/arm64", "linux/amd64"].map((platform) => kilnProcess(["--root", root, "import", "--platform", platform, tarball, "busybox:latest"]));
        await manifestsWritten(root, 2);
        await sleep(300);
        return started;
      });
      for (const r of await Promise.all(imports)) expect(r.code, r.stderr).toBe(0);
      const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${root}:docker.io/library/busybox:latest`], { encoding: "utf8" })) as ImageIndex;
      const platforms = raw.mediaType === MediaType.ociIndex ? raw.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort() : ["(a single image)"];
      outcomes.push(`round ${round}: ${platforms.join(" ")}`);
    }
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}: linux/amd64 linux/arm64`));
  });
});
