// A multi-platform build pushed in one go: the registry gets the index,
// every platform's manifest and blobs, and skopeo reads each platform back.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";
import { useArm64Busybox } from "./prerequisites.js";

describe("--platform a,b --push", () => {
  const ws = useWorkspace();
  useArm64Busybox({ importInto: ws });
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it("pushes the index, both images and (by default, as buildx) a provenance attestation for each", async () => {
    const ref = `${registry.host}/team/multi:1`;
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64", "--push", "-t", ref, path.join(REPO, "testdata/multiarch")]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const digest = /pushed .*@(sha256:[0-9a-f]{64})/.exec(r.stderr)![1];
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    type Entry = { digest: string; platform: { architecture: string }; annotations?: Record<string, string> };
    expect(raw.manifests.map((m: Entry) => m.platform.architecture)).toEqual(["amd64", "arm64", "unknown", "unknown"]);
    // Each attestation manifest names one of the two images.
    const images = raw.manifests.slice(0, 2).map((m: Entry) => m.digest);
    expect(raw.manifests.slice(2).map((m: Entry) => m.annotations?.["vnd.docker.reference.digest"])).toEqual(images);
    const remoteDigest = execFileSync("skopeo", ["inspect", "--format", "{{.Digest}}", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }).trim();
    expect(remoteDigest).toBe(digest);
    const arm = JSON.parse(execFileSync("skopeo", ["inspect", "--override-arch", "arm64", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(arm.Architecture).toBe("arm64");
  });

  it("per-platform push-by-digest, then kiln index create merges them: the same index as the one-shot build", async () => {
    const repo = `${registry.host}/team/split`;
    const digests: string[] = [];
    for (const plat of ["linux/amd64", "linux/arm64"]) {
      const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--platform", plat, "--output", `type=registry,name=${repo}:tmp,push-by-digest=true`, path.join(REPO, "testdata/multiarch")]);
      expect(r.stderr).not.toMatch(/^error/m);
      expect(r.code).toBe(0);
      const pushed = r.stdout.trim();
      expect(pushed).toMatch(new RegExp(`^${repo.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}$`));
      digests.push(pushed);
    }
    // Nothing was tagged in the registry: each manifest is there by digest only.
    // (distribution answers 404 for a repository that has no tag at all).
    const res = await fetch(`http://${registry.host}/v2/team/split/tags/list`);
    const tags: string[] = res.ok ? (((await res.json()) as { tags?: string[] | null }).tags ?? []) : [];
    expect([res.status, tags]).toEqual([res.ok ? 200 : 404, []]);
    // A merge job: pull each digest into a fresh store, make the index, push it.
    const merge = await mkdtemp(path.join(tmpdir(), "kiln-merge-"));
    // Each per-platform push is an index of the image and its provenance: pull it whole.
    for (const d of digests) expect((await kiln(["--root", merge, "pull", "--all-platforms", d])).code).toBe(0);
    const created = await kiln(["--root", merge, "index", "create", "-t", `${repo}:1`, ...digests]);
    expect(created.code, created.stderr).toBe(0);
    const pushed = await kiln(["--root", merge, "push", `${repo}:1`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    // The same merge straight on the registry (nothing pulled) makes the very same index.
    const remote = await kiln(["imagetools", "create", "-t", `${repo}:2`, ...digests]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdout).toBe(created.stdout);
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${repo}:1`], { encoding: "utf8" }));
    // The merged index holds both platforms' images and their attestations, each attestation still naming its image.
    type Entry = { digest: string; platform: { architecture: string }; annotations?: Record<string, string> };
    const imagesOf = (idx: { manifests: Entry[] }) => idx.manifests.filter((m) => m.platform.architecture !== "unknown");
    expect(imagesOf(raw).map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    const attested = raw.manifests.filter((m: Entry) => m.platform.architecture === "unknown").map((m: Entry) => m.annotations?.["vnd.docker.reference.digest"]);
    expect(attested.sort()).toEqual(imagesOf(raw).map((m) => m.digest).sort());
    // The one-shot multi-platform build of the same inputs made the same images
    // (its provenance differs: another invocation, other names).
    const oneShot = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/multi:1`], { encoding: "utf8" }));
    expect(imagesOf(raw).map((m) => m.digest).sort()).toEqual(imagesOf(oneShot).map((m) => m.digest).sort());
    await rm(merge, { recursive: true, force: true });
  });

  it("oci-mediatypes=false pushes a Docker manifest list of Docker v2 manifests", async () => {
    const ref = `${registry.host}/team/dockerlist:1`;
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64", "--output", `type=registry,name=${ref},oci-mediatypes=false`, path.join(REPO, "testdata/multiarch")]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(raw.manifests.map((m: { mediaType: string }) => m.mediaType)).toEqual(["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.v2+json"]);
    const armDigest = raw.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === "arm64").digest;
    const child = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/dockerlist@${armDigest}`], { encoding: "utf8" }));
    expect(child.config.mediaType).toBe("application/vnd.docker.container.image.v1+json");
    expect(new Set(child.layers.map((l: { mediaType: string }) => l.mediaType))).toEqual(new Set(["application/vnd.docker.image.rootfs.diff.tar.gzip"]));
    const arm = JSON.parse(execFileSync("skopeo", ["inspect", "--override-arch", "arm64", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(arm.Architecture).toBe("arm64");
  });
});
