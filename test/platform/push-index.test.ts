// A multi-platform build pushed in one go: the registry gets the index,
// every platform's manifest and blobs, and skopeo reads each platform back.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";
import { busyboxTarballs, requireArm64Emulation } from "./prerequisites.js";

describe("--platform a,b --push", () => {
  let root: string;
  let registry: RegistryServer;
  beforeAll(async () => {
    await requireArm64Emulation();
    const bb = await busyboxTarballs();
    root = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    for (const [plat, file] of [["linux/amd64", bb.amd64], ["linux/arm64", bb.arm64]] as const) {
      const r = await kiln(["--root", root, "import", "--platform", plat, file, "busybox:latest"]);
      expect(r.code, r.stderr).toBe(0);
    }
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("pushes the index and both images", async () => {
    const ref = `${registry.host}/team/multi:1`;
    const r = await kiln(["--root", root, "build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64", "--push", "-t", ref, path.join(REPO, "testdata/multiarch")]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const digest = /pushed .*@(sha256:[0-9a-f]{64})/.exec(r.stderr)![1];
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    const remoteDigest = execFileSync("skopeo", ["inspect", "--format", "{{.Digest}}", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }).trim();
    expect(remoteDigest).toBe(digest);
    const arm = JSON.parse(execFileSync("skopeo", ["inspect", "--override-arch", "arm64", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(arm.Architecture).toBe("arm64");
  });
});
