// The library's one entry point does what `kiln build --platform a,b
// --provenance --sbom --push` does: build(options) builds two platforms
// (arm64 under qemu) in one call, attests each, pushes the index to a
// registry, and says what it pushed. skopeo, which we did not write, reads
// the pushed index back: two images, two attestation manifests naming them.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, Store, type BuildEvent, type BuildResult } from "../../src/index.js";
import { useWorkspace } from "../helpers/workspace.js";
import { AMD64, ARM64, useArm64Busybox } from "../platform/prerequisites.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

type Entry = { mediaType: string; digest: string; platform?: { os: string; architecture: string }; annotations?: Record<string, string> };

describe("build() of two platforms with attestations, pushed", () => {
  const ws = useWorkspace({ name: "libpush", context: { Dockerfile: "FROM busybox:latest\nRUN uname -m > /arch\n" } });
  useArm64Busybox({ importInto: ws });
  let registry: RegistryServer;
  let result: BuildResult;
  const events: BuildEvent[] = [];
  let ref: string;

  beforeAll(async () => {
    registry = await startRegistry();
    ref = `${registry.host}/lib/app:1`;
    const store = await Store.open(ws.root);
    result = await build({
      store,
      contextDir: ws.ctx,
      platforms: [AMD64, ARM64],
      attestations: { provenance: { mode: "max" }, sbom: true },
      outputs: [{ kind: "registry", name: ref }],
      onEvent: (e) => events.push(e),
    });
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it("returns one result per platform, the index and the push, each step built once", () => {
    expect(result.platforms.map((p) => p.platform)).toEqual([AMD64, ARM64]);
    expect(result.index?.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(result.manifest?.digest).toBe(result.index?.digest);
    expect(result.pushed).toEqual([{ name: ref, reference: ref, digest: result.index!.digest, byDigest: false }]);
    // One RUN per platform, each run once (no second pass for another output).
    expect(result.platforms.map((p) => p.executed)).toEqual([1, 1]);
    const runs = events.filter((e) => e.kind === "step-start" && e.name.includes("RUN"));
    expect(runs.map((e) => (e.kind === "step-start" ? e.name : ""))).toEqual(["[linux/amd64 2/2] RUN uname -m > /arch", "[linux/arm64 2/2] RUN uname -m > /arch"]);
  });

  it("skopeo reads the pushed index: two images, then an attestation manifest for each with provenance and SPDX", () => {
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })) as { mediaType: string; manifests: Entry[] };
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(raw.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual(["linux/amd64", "linux/arm64", "unknown/unknown", "unknown/unknown"]);
    const images = raw.manifests.slice(0, 2);
    expect(images.map((m) => m.digest)).toEqual(result.platforms.map((p) => p.manifest!.digest));
    const attestations = raw.manifests.slice(2);
    expect(attestations.map((m) => m.annotations?.["vnd.docker.reference.type"])).toEqual(["attestation-manifest", "attestation-manifest"]);
    expect(attestations.map((m) => m.annotations?.["vnd.docker.reference.digest"])).toEqual(images.map((m) => m.digest));
    for (const a of attestations) {
      const m = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/lib/app@${a.digest}`], { encoding: "utf8" })) as {
        layers: { mediaType: string; annotations?: Record<string, string> }[];
      };
      expect(m.layers.map((l) => l.mediaType)).toEqual(["application/vnd.in-toto+json", "application/vnd.in-toto+json"]);
      expect(m.layers.map((l) => l.annotations?.["in-toto.io/predicate-type"]).sort()).toEqual(["https://slsa.dev/provenance/v1", "https://spdx.dev/Document"]);
    }
    // Each platform's image as skopeo resolves it from the index.
    for (const arch of ["amd64", "arm64"]) {
      const i = JSON.parse(execFileSync("skopeo", ["--override-arch", arch, "inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })) as { Architecture: string };
      expect(i.Architecture).toBe(arch);
    }
  });
});
