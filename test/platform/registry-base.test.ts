// A multi-arch base from a real registry (Debian's docker-registry on
// 127.0.0.1): an OCI index and a Docker manifest list of linux/amd64 and
// linux/arm64 busybox. Both platforms build in one --platform a,b build,
// one store builds them one after the other in either order (the name holds
// an index of the platforms pulled; a missing one is pulled), and a base
// pinned by the index's digest builds for a platform the store lacks.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";
import { useArm64Busybox } from "./prerequisites.js";

describe("FROM a multi-arch image in a registry", () => {
  const ws = useWorkspace({ name: "regbase" });
  useArm64Busybox({ importInto: ws });
  let registry: RegistryServer;
  const env = { DOCKER_CONFIG: "" };
  const stores: string[] = [];
  const freshStore = async () => {
    const s = await mkdtemp(path.join(tmpdir(), "kiln-regbase-store-"));
    stores.push(s);
    return s;
  };
  const oci = () => `${registry.host}/library/busybox:1`;
  const v2s2 = () => `${registry.host}/library/busybox:v2s2`;

  beforeAll(async () => {
    env.DOCKER_CONFIG = path.join(ws.work, "docker");
    registry = await startRegistry();
    // The OCI index as kiln pushes it; the same images as a Docker manifest list, converted by skopeo.
    const p = await kiln(["--root", ws.root, "push", "busybox:latest", oci()], env);
    if (p.code !== 0) throw new Error(`push: ${p.stderr}`);
    execFileSync("skopeo", ["copy", "--all", "--format", "v2s2", "--dest-tls-verify=false", `oci:${ws.root}:docker.io/library/busybox:latest`, `docker://${v2s2()}`], { stdio: "pipe" });
  });
  afterAll(async () => {
    await registry?.stop();
    for (const s of stores) await rm(s, { recursive: true, force: true });
  });

  const rawManifest = (ref: string) => JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
  const indexDigest = (ref: string) => execFileSync("skopeo", ["inspect", "--format", "{{.Digest}}", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }).trim();

  /** Builds `FROM base` + `RUN uname -m > /arch` for `platform` into `root`; the architecture each platform's RUN saw. */
  const buildArch = async (root: string, base: string, platform: string): Promise<Record<string, string>> => {
    const ctx = await writeContext(await mkdtemp(path.join(ws.work, "ctx-")), { Dockerfile: `FROM ${base}\nRUN uname -m > /arch\n` });
    const out = path.join(ctx, "..", `${path.basename(ctx)}-out`);
    const r = await kiln(["--root", root, "build", "--progress", "plain", "--platform", platform, "--output", `type=local,dest=${out}`, ctx], env);
    expect(r.code, r.stderr).toBe(0);
    const plats = platform.split(",");
    const arch: Record<string, string> = {};
    for (const p of plats) arch[p] = (await readFile(path.join(out, ...(plats.length > 1 ? [p.replace("/", "_")] : []), "arch"), "utf8")).trim();
    return arch;
  };

  it("the registry holds an OCI index and a Docker manifest list of both platforms", () => {
    expect(rawManifest(oci()).mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const list = rawManifest(v2s2());
    expect(list.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(list.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
  });

  it("--platform linux/amd64,linux/arm64 builds both from one OCI index and from one Docker manifest list", async () => {
    for (const base of [oci(), v2s2()]) {
      expect(await buildArch(await freshStore(), base, "linux/amd64,linux/arm64")).toEqual({ "linux/amd64": "x86_64", "linux/arm64": "aarch64" });
    }
  }, 180_000);

  it("one store builds arm64 then amd64, and amd64 then arm64; the name then holds an index of both", async () => {
    for (const order of [["linux/arm64", "linux/amd64"], ["linux/amd64", "linux/arm64"]]) {
      const root = await freshStore();
      for (const p of order) expect(await buildArch(root, oci(), p)).toEqual({ [p]: p === "linux/amd64" ? "x86_64" : "aarch64" });
      const idx = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${root}:${oci()}`], { encoding: "utf8" }));
      expect(idx.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      // In the registry index's order whichever platform came first.
      expect(idx.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
      // kiln images --digests shows the registry's digest of the image, as docker does.
      const listed = await kiln(["--root", root, "images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"], env);
      expect(listed.stdout).toBe(`${oci()} ${indexDigest(oci())}\n`);
    }
  }, 180_000);

  it("a base pinned by the index digest builds for a platform the store does not have yet, for both media types", async () => {
    for (const tagged of [oci(), v2s2()]) {
      const root = await freshStore();
      const pinned = `${tagged.replace(/:[^:/]+$/, "")}@${indexDigest(tagged)}`;
      expect(await buildArch(root, tagged, "linux/amd64")).toEqual({ "linux/amd64": "x86_64" });
      expect(await buildArch(root, pinned, "linux/arm64")).toEqual({ "linux/arm64": "aarch64" });
      expect(await buildArch(root, pinned, "linux/amd64")).toEqual({ "linux/amd64": "x86_64" });
    }
  }, 180_000);
});
