// testdata/multiarch built for linux/amd64 and linux/arm64 in one build: one
// OCI image index with an image per platform, valid by the schema and read by
// skopeo; the arm64 image, unpacked by umoci and run by runc under qemu,
// prints aarch64; the $BUILDPLATFORM stage ran once and was reused.
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, type BuildResult } from "../../src/build/build.js";
import { indexCommand } from "../../src/cli/index-commands.js";
import type { BuildEvent } from "../../src/build/events.js";
import type { ImageConfig } from "../../src/oci/config.js";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { Store } from "../../src/store/store.js";
import { REPO } from "../helpers/kiln.js";
import { validateOci } from "../helpers/oci-schema.js";
import { useWorkspace } from "../helpers/workspace.js";
import { AMD64, ARM64, useArm64Busybox } from "./prerequisites.js";

const CONTEXT = path.join(REPO, "testdata/multiarch");

describe("multi-platform build of testdata/multiarch", () => {
  const ws = useWorkspace({ name: "ma" });
  useArm64Busybox({ importInto: ws });
  let store: Store;
  let result: BuildResult;
  const logs: string[] = [];

  beforeAll(async () => {
    store = await Store.open(ws.root);
    result = await build({
      store,
      contextDir: CONTEXT,
      platforms: [AMD64, ARM64],
      tags: ["multiarch:1"],
      outputs: [
        { kind: "oci", dest: path.join(ws.work, "oci-dir"), tar: false },
        { kind: "oci", dest: path.join(ws.work, "oci.tar"), tar: true },
      ],
      onEvent: (e: BuildEvent) => {
        if (e.kind === "step-log") logs.push(e.data.toString());
      },
    });
  }, 300_000);

  it("tags one OCI image index with an image per platform, valid by the schema and as skopeo reads it", async () => {
    expect(result.index?.mediaType).toBe(MediaType.ociIndex);
    const text = execFileSync("skopeo", ["inspect", "--raw", `oci:${ws.root}:docker.io/library/multiarch:1`]).toString();
    expect(validateOci("index", text)).toEqual([]);
    expect(Buffer.from(text).equals(await store.readBlob(result.index!.digest))).toBe(true);
    const idx = JSON.parse(text) as ImageIndex;
    expect(idx.manifests.map((m) => m.platform)).toEqual([AMD64, ARM64]);
    expect(idx.manifests.map((m) => m.digest)).toEqual(result.platforms.map((p) => p.manifest!.digest));
    for (const m of idx.manifests) {
      const mtext = (await store.readBlob(m.digest)).toString();
      expect(validateOci("manifest", mtext)).toEqual([]);
      const cfg = await store.readJson<ImageConfig>((JSON.parse(mtext) as ImageManifest).config.digest);
      expect(validateOci("config", cfg)).toEqual([]);
      expect(cfg.architecture).toBe(m.platform!.architecture);
    }
    // Nothing tagged per platform: only the two imports' name and the index's.
    expect((await store.listImages()).map((r) => r.name).sort()).toEqual(["docker.io/library/busybox:latest", "docker.io/library/multiarch:1"]);
    for (const arch of ["amd64", "arm64"]) {
      const i = JSON.parse(execFileSync("skopeo", ["--override-arch", arch, "inspect", `oci:${ws.root}:docker.io/library/multiarch:1`]).toString());
      expect(i.Architecture).toBe(arch);
    }
  });

  it("runs the $BUILDPLATFORM stage once: the second platform's build reuses it from the cache", async () => {
    const [amd, arm] = result.platforms;
    // amd64: the tool RUN, the final RUN and COPY run. arm64: the tool RUN is cached.
    expect(amd!.executed).toBe(3);
    expect(arm!.cached).toBeGreaterThanOrEqual(1);
    expect(arm!.executed).toBe(2);
    // Its output appears once over both platforms.
    expect(logs.join("").match(/^tool-stage-ran$/gm) ?? []).toHaveLength(1);
  });

  it("writes the index as an OCI layout (dir and tar) that skopeo reads per platform", async () => {
    for (const src of [`oci:${path.join(ws.work, "oci-dir")}:1`, `oci-archive:${path.join(ws.work, "oci.tar")}:1`]) {
      const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", src]).toString()) as ImageIndex;
      expect(raw.manifests.map((m) => m.digest)).toEqual(result.platforms.map((p) => p.manifest!.digest));
      const arm = JSON.parse(execFileSync("skopeo", ["--override-arch", "arm64", "inspect", src]).toString());
      expect(arm.Architecture).toBe("arm64");
    }
    const layoutIndex = JSON.parse(await readFile(path.join(ws.work, "oci-dir/index.json"), "utf8")) as ImageIndex;
    expect(validateOci("index", layoutIndex)).toEqual([]);
    expect(layoutIndex.manifests).toHaveLength(1);
    expect(layoutIndex.manifests[0]!.digest).toBe(result.index!.digest);
    expect(layoutIndex.manifests[0]!.annotations?.["io.containerd.image.name"]).toBe("docker.io/library/multiarch:1");
  });

  it("the arm64 image, unpacked by umoci and run by runc, prints aarch64 (under qemu)", async () => {
    const dir = path.join(ws.work, "arm64-layout");
    execFileSync("skopeo", ["--override-arch", "arm64", "copy", "--quiet", `oci:${ws.root}:docker.io/library/multiarch:1`, `oci:${dir}:arm64`]);
    const bundle = path.join(ws.work, "arm64-bundle");
    execFileSync("umoci", ["unpack", "--image", `${dir}:arm64`, bundle]);
    // What the arm64 build wrote, and what the $BUILDPLATFORM stage (native) wrote.
    expect(await readFile(path.join(bundle, "rootfs/arch"), "utf8")).toBe("aarch64\n");
    expect(await readFile(path.join(bundle, "rootfs/target"), "utf8")).toBe("linux/arm64\n");
    expect(await readFile(path.join(bundle, "rootfs/made-on"), "utf8")).toBe("made on linux/amd64: x86_64\n");
    const cfgPath = path.join(bundle, "config.json");
    const spec = JSON.parse(await readFile(cfgPath, "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["/bin/sh", "-c", "uname -m; cat /arch"];
    await writeFile(cfgPath, JSON.stringify(spec));
    const id = `kiln-arm64-${process.pid}`;
    const out = execFileSync("runc", ["run", "--bundle", bundle, id], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    expect(out).toBe("aarch64\naarch64\n");
  });

  it("refuses --output type=docker for more than one platform, as docker does", async () => {
    await expect(
      build({ store, contextDir: CONTEXT, platforms: [AMD64, ARM64], outputs: [{ kind: "docker", dest: path.join(ws.work, "d.tar") }] }),
    ).rejects.toMatchObject({ code: "DOCKER_EXPORT_MULTI_PLATFORM", message: expect.stringMatching(/does not currently support exporting manifest lists/) });
  });

  it("a rebuild runs nothing and gives the same index", async () => {
    const again = await build({ store, contextDir: CONTEXT, platforms: [AMD64, ARM64], tags: ["multiarch:1"] });
    expect(again.executed).toBe(0);
    expect(again.index!.digest).toBe(result.index!.digest);
  });

  it("kiln index create of the two single-platform builds equals the one-shot multi-platform index; index inspect lists them", async () => {
    // As on two native CI runners: each platform built on its own, by digest.
    const amd = await build({ store, contextDir: CONTEXT, platforms: [AMD64], tags: ["multiarch:amd64"] });
    const arm = await build({ store, contextDir: CONTEXT, platforms: [ARM64], tags: ["multiarch:arm64"] });
    let out = "";
    let err = "";
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s), env: process.env, isTty: false };
    const code = await indexCommand(store, ["create", "-t", "multiarch:merged", `multiarch@${amd.manifest!.digest}`, "multiarch:arm64"], io);
    expect(err).toContain("tagged docker.io/library/multiarch:merged");
    expect(code).toBe(0);
    expect(out.trim()).toBe(result.index!.digest);
    const raw = execFileSync("skopeo", ["inspect", "--raw", `oci:${ws.root}:docker.io/library/multiarch:merged`]);
    expect(raw.equals(await store.readBlob(result.index!.digest))).toBe(true);
    expect(arm.manifest!.digest).toBe(result.platforms[1]!.manifest!.digest);

    // Merging an index with an image it already has is a no-op; a second image for a platform is refused.
    out = "";
    expect(await indexCommand(store, ["create", "--dry-run", "multiarch:1", "multiarch:arm64"], io)).toBe(0);
    expect(JSON.parse(out).manifests).toHaveLength(2);
    await expect(indexCommand(store, ["create", "multiarch:1", "busybox:latest"], io)).rejects.toMatchObject({ code: "DUPLICATE_PLATFORM" });

    out = "";
    expect(await indexCommand(store, ["inspect", "multiarch:merged"], io)).toBe(0);
    expect(out).toContain(`Digest:    ${result.index!.digest}`);
    expect(out).toMatch(/Platform:  linux\/amd64[\s\S]*Platform:  linux\/arm64/);
    expect(out).toContain(`multiarch:merged@${arm.manifest!.digest}`);
  });
});
