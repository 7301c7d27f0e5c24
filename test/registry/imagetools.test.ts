// kiln imagetools create/inspect straight on a registry (Debian's
// docker-registry), through a counting proxy: per-platform images pushed
// to their own repositories become one index under a tag in a third, with
// only manifests moving (blob mounts, config reads), no layer downloaded or
// uploaded. Checked with skopeo and by walking the registry. As a user runs
// it: node bin/kiln.js.
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, shellAsync } from "../helpers/bin.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { busyboxTarballs, requireArm64Emulation } from "../platform/prerequisites.js";
import { type FaultProxy, startFaultProxy } from "./helpers/fault-proxy.js";
import { danglingReferences } from "./helpers/integrity.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

describe("kiln imagetools on the registry", () => {
  const ws = useWorkspace();
  let reg: RegistryServer;
  let proxy: FaultProxy;
  const log: string[] = [];
  const digests: Record<string, string> = {};
  const layers: string[] = [];
  let layerBytes = 0;
  beforeAll(async () => {
    await requireBuilt("src/registry/imagetools.ts", "src/cli/imagetools-commands.ts", "src/store/index-merge.ts");
    await requireArm64Emulation();
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.port);
    proxy.decide = (req) => {
      log.push(`${req.method} ${req.url}`);
      return undefined;
    };
    const bb = await busyboxTarballs();
    for (const arch of ["amd64", "arm64"] as const) {
      const imp = await kiln(["--root", ws.root, "import", "--platform", `linux/${arch}`, bb[arch], `bb:${arch}`], { SOURCE_DATE_EPOCH: "0" });
      expect(imp.code, imp.stderr).toBe(0);
      const p = await kiln(["--root", ws.root, "push", `bb:${arch}`, `${proxy.host}/src/${arch}:1`]);
      expect(p.code, p.stderr).toBe(0);
      digests[arch] = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1]!;
      const m = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/src/${arch}@${digests[arch]}`], { encoding: "utf8" })) as { layers: { digest: string; size: number }[] };
      layers.push(...m.layers.map((l) => l.digest));
      layerBytes += m.layers.reduce((n, l) => n + l.size, 0);
    }
    await rm(bb.dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("create: an index of two pushed images in another repository, moving manifests only", async () => {
    log.length = 0;
    const before = proxy.bytesOut;
    const r = await shellAsync(`kiln imagetools create -t ${proxy.host}/team/app:multi ${proxy.host}/src/amd64@${digests.amd64} ${proxy.host}/src/arm64@${digests.arm64}`);
    expect(r.stderr).toContain(`pushed ${proxy.host}/team/app:multi@`);
    expect(r.code).toBe(0);
    const index = r.stdout.trim();
    expect(index).toMatch(/^sha256:[0-9a-f]{64}$/);
    // No layer bytes moved: no layer GET, no upload session, no PATCH; blobs were mounted.
    expect(log.filter((l) => layers.some((d) => l.startsWith("GET ") && l.includes(`/blobs/${d}`)))).toEqual([]);
    expect(log.filter((l) => l.startsWith("PATCH ") || (l.startsWith("PUT ") && l.includes("/blobs/uploads/")))).toEqual([]);
    expect(log.filter((l) => l.startsWith("POST ") && l.includes("mount=")).length).toBeGreaterThanOrEqual(4);
    // Bytes on the wire, registry to kiln: manifests and configs, a few KB against the layers' MB.
    const downloaded = proxy.bytesOut - before;
    expect(downloaded, `${downloaded} bytes downloaded, layers ${layerBytes}`).toBeLessThan(Math.min(64 * 1024, layerBytes * 0.05));
    // What the registry holds, read by skopeo: the index under the tag, both platforms.
    const raw = execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/team/app:multi`], { encoding: "utf8" });
    const idx = JSON.parse(raw) as { manifests: { digest: string; platform: { architecture: string } }[] };
    expect(idx.manifests.map((m) => [m.platform.architecture, m.digest])).toEqual([["amd64", digests.amd64], ["arm64", digests.arm64]]);
    execFileSync("skopeo", ["copy", "--all", "--src-tls-verify=false", `docker://${reg.host}/team/app:multi`, `oci:${ws.work}/copy:multi`]);
    // inspect: the same, and --raw is the registry's bytes exactly.
    const i = await shellAsync(`kiln imagetools inspect ${proxy.host}/team/app:multi`);
    expect(i.code).toBe(0);
    expect(i.stdout).toContain(`Digest:    ${index}`);
    expect(i.stdout).toMatch(/Platform:  linux\/amd64[\s\S]*Platform:  linux\/arm64/);
    const rawOut = await shellAsync(`kiln imagetools inspect --raw ${proxy.host}/team/app:multi`);
    expect(rawOut.stdout).toBe(`${raw}\n`);
    const single = await shellAsync(`kiln imagetools inspect ${proxy.host}/src/arm64:1`);
    expect(single.stdout).toContain("Platform:  linux/arm64");
  });

  it("create from an index source in the same repository: only the new index is put", async () => {
    log.length = 0;
    const r = await shellAsync(`kiln imagetools create -t ${proxy.host}/team/app:copy ${proxy.host}/team/app:multi`);
    expect(r.code, r.stderr).toBe(0);
    expect(log.filter((l) => l.startsWith("PUT "))).toEqual(["PUT /v2/team/app/manifests/copy"]);
    expect(log.filter((l) => l.includes("/blobs/"))).toEqual([]);
    expect((await danglingReferences(reg.host)).problems).toEqual([]);
  });

  it("two images for one platform, or a source on another registry: a clear error, nothing pushed", async () => {
    // The same image reached twice (alone and through the index) is one entry.
    const same = await shellAsync(`kiln imagetools create --dry-run ${proxy.host}/src/amd64@${digests.amd64} ${proxy.host}/team/app:multi`);
    expect(same.code, same.stderr).toBe(0);
    expect((JSON.parse(same.stdout) as { manifests: unknown[] }).manifests).toHaveLength(2);
    // Another amd64 image (other creation time, other digest).
    const bb = await busyboxTarballs();
    expect((await kiln(["--root", ws.root, "import", "--platform", "linux/amd64", bb.amd64, "bb:other"], { SOURCE_DATE_EPOCH: "1" })).code).toBe(0);
    await rm(bb.dir, { recursive: true, force: true });
    expect((await kiln(["--root", ws.root, "push", "bb:other", `${proxy.host}/src/amd64:2`])).code).toBe(0);
    log.length = 0;
    const dup = await shellAsync(`kiln imagetools create -t ${proxy.host}/team/app:bad ${proxy.host}/src/amd64@${digests.amd64} ${proxy.host}/src/amd64:2`);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/two different images for linux\/amd64: sha256:[0-9a-f]{64} and sha256:[0-9a-f]{64} \(from 127\.0\.0\.1:\d+\/src\/amd64:2\)/);
    expect(log.filter((l) => l.startsWith("PUT ") || l.startsWith("POST "))).toEqual([]);
    const cross = await shellAsync(`kiln imagetools create -t ${proxy.host}/team/app:x 127.0.0.2:1/src/a:1`);
    expect(cross.code).toBe(1);
    expect(cross.stderr).toMatch(/is on 127\.0\.0\.1:\d+, not 127\.0\.0\.2:1: imagetools create moves manifests within one registry/);
  });

  it("kiln index create (the store's) makes the same index from the same images", async () => {
    const r = await kiln(["--root", ws.root, "index", "create", "--dry-run", "bb:amd64", "bb:arm64"]);
    expect(r.code, r.stderr).toBe(0);
    const remote = await shellAsync(`kiln imagetools create --dry-run ${proxy.host}/src/amd64@${digests.amd64} ${proxy.host}/src/arm64@${digests.arm64}`);
    const local = JSON.parse(r.stdout) as { manifests: { platform: unknown }[] };
    const fromRegistry = JSON.parse(remote.stdout) as { manifests: { platform: unknown }[] };
    expect(fromRegistry.manifests.map((m) => m.platform)).toEqual(local.manifests.map((m) => m.platform));
  });
});
