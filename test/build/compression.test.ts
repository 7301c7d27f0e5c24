// Which blobs a build writes: into the store alone, layers stay uncompressed
// (the manifest lists the layer tar, its digest the diffID: no compression
// at all); an OCI archive compresses them, as gzip by default or as zstd with
// buildx's compression=zstd,compression-level=N, and the bytes decompress
// back to the layer the config names.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

interface Desc { mediaType: string; digest: string; size: number }

function blobOf(dir: string, d: { digest: string }): Buffer {
  return readFileSync(path.join(dir, "blobs/sha256", d.digest.slice(7)));
}
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("layer compression", () => {
  const ws = useWorkspace({ busybox: true, name: "compression", context: { Dockerfile: "FROM busybox\nRUN echo compressed-or-not > /f && seq 1 20000 > /numbers\n" } });

  it("a build into the store lists the RUN layer uncompressed (digest = diffID) and makes no gzip blob", async () => {
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "plain:1", ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(readFileSync(path.join(ws.root, "index.json"), "utf8")) as { manifests: (Desc & { annotations?: Record<string, string> })[] };
    const m = index.manifests.find((x) => x.annotations?.["org.opencontainers.image.ref.name"] === "docker.io/library/plain:1")!;
    const manifest = JSON.parse(blobOf(ws.root, m).toString()) as { config: Desc; layers: Desc[] };
    const config = JSON.parse(blobOf(ws.root, manifest.config).toString()) as { rootfs: { diff_ids: string[] } };
    const run = manifest.layers.at(-1)!;
    expect(run.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    expect(run.digest).toBe(config.rootfs.diff_ids.at(-1));
    expect(sha(blobOf(ws.root, run))).toBe(run.digest);
    expect(existsSync(path.join(ws.root, "cache/layer-blobs", `${run.digest.slice(7)}.json`))).toBe(false);
    // The writing is timed, and it is a tar, not a compressor.
    expect(r.stderr).toMatch(/^exporting layers: .*tar\+digest\+write /m);
  });

  it("--output type=oci,compression=zstd,compression-level=5: zstd layers that decompress to the diffIDs; gzip by default", async () => {
    const zst = path.join(ws.work, "zstd");
    const gz = path.join(ws.work, "gzip");
    const z = await kiln(["--root", ws.root, "build", "-q", "-t", "plain:1", "--output", `type=oci,dest=${zst},tar=false,compression=zstd,compression-level=5`, ws.ctx]);
    expect(z.code, z.stderr).toBe(0);
    const g = await kiln(["--root", ws.root, "build", "-q", "-t", "plain:1", "--output", `type=oci,dest=${gz},tar=false`, ws.ctx]);
    expect(g.code, g.stderr).toBe(0);
    for (const [dir, mediaType, decompress] of [
      [zst, "application/vnd.oci.image.layer.v1.tar+zstd", ["zstd", "-dc"]],
      [gz, "application/vnd.oci.image.layer.v1.tar+gzip", ["gzip", "-dc"]],
    ] as const) {
      const top = (JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as { manifests: Desc[] }).manifests[0]!;
      const manifest = JSON.parse(blobOf(dir, top).toString()) as { config: Desc; layers: Desc[] };
      const diffIds = (JSON.parse(blobOf(dir, manifest.config).toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
      expect(manifest.layers.map((l) => l.mediaType)).toEqual(manifest.layers.map(() => mediaType));
      for (const [i, l] of manifest.layers.entries()) {
        expect(sha(execFileSync(decompress[0], [decompress[1], path.join(dir, "blobs/sha256", l.digest.slice(7))], { maxBuffer: 64 << 20 }))).toBe(diffIds[i]);
      }
      if (dir === zst) {
        // Level 5 as asked: the zstd CLI at -5 gives the same bytes from the layer tar.
        const l = manifest.layers.at(-1)!;
        const tar = execFileSync("zstd", ["-dc", path.join(dir, "blobs/sha256", l.digest.slice(7))]);
        expect(sha(execFileSync("zstd", ["-q", "-c", "-5", "-T0"], { input: tar }))).toBe(l.digest);
      }
    }
  });

  it("outputs that ask for different compressions, or a bad level, are usage errors", async () => {
    const r = await kiln(["--root", ws.root, "build", "-q", "--output", `type=oci,dest=${ws.work}/a.tar,compression=zstd`, "--output", `type=docker,dest=${ws.work}/b.tar,compression=gzip`, ws.ctx]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/asks for other compression/);
    const bad = await kiln(["--root", ws.root, "build", "-q", "--output", `type=oci,dest=${ws.work}/c.tar,compression=gzip,compression-level=12`, ws.ctx]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/compression-level for gzip must be 0-9, not "12"/);
  });
});
