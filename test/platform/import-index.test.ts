// `kiln import --platform P FILE NAME` under a name that already has another
// platform makes NAME an OCI image index of both; the same platform again
// replaces its entry.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { Store } from "../../src/store/store.js";
import { kiln } from "../helpers/kiln.js";
import { validateOci } from "../helpers/oci-schema.js";
import { useWorkspace } from "../helpers/workspace.js";
import { useArm64Busybox } from "./prerequisites.js";

describe("import of several platforms under one name", () => {
  const ws = useWorkspace();
  const bb = useArm64Busybox();

  const raw = (ref: string) => execFileSync("skopeo", ["inspect", "--raw", `oci:${ws.root}:${ref}`]).toString();

  it("merges a second platform into an index and replaces a platform imported again", async () => {
    const a = await kiln(["--root", ws.root, "import", bb.amd64, "busybox:latest"], { SOURCE_DATE_EPOCH: "0" });
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    const amd = a.stdout.trim();
    // One platform: the name is a plain manifest.
    expect(JSON.parse(raw("docker.io/library/busybox:latest")).mediaType).toBe(MediaType.ociManifest);

    const b = await kiln(["--root", ws.root, "import", "--platform", "linux/arm64", bb.arm64, "busybox:latest"], { SOURCE_DATE_EPOCH: "0" });
    expect(b.code).toBe(0);
    const arm = b.stdout.trim();
    const text = raw("docker.io/library/busybox:latest");
    const idx = JSON.parse(text) as ImageIndex;
    expect(validateOci("index", text)).toEqual([]);
    expect(idx.mediaType).toBe(MediaType.ociIndex);
    expect(idx.manifests.map((m) => [m.digest, m.platform])).toEqual([
      [amd, { os: "linux", architecture: "amd64" }],
      [arm, { os: "linux", architecture: "arm64" }],
    ]);
    // Each platform resolves to its own image, for kiln and for skopeo.
    const store = await Store.open(ws.root);
    expect((await store.resolveImage("busybox:latest", { os: "linux", architecture: "arm64" }))!.config.architecture).toBe("arm64");
    expect((await store.resolveImage("busybox:latest", { os: "linux", architecture: "amd64" }))!.config.architecture).toBe("amd64");
    const armInspect = JSON.parse(execFileSync("skopeo", ["--override-arch", "arm64", "inspect", `oci:${ws.root}:docker.io/library/busybox:latest`]).toString());
    expect(armInspect.Architecture).toBe("arm64");
    // (skopeo reports the digest of the index it resolved through.)
    expect(armInspect.Digest).toMatch(/^sha256:/);

    // The same platform again (another timestamp, so another digest) replaces its entry.
    const c = await kiln(["--root", ws.root, "import", "--platform", "linux/arm64", bb.arm64, "busybox:latest"], { SOURCE_DATE_EPOCH: "100" });
    expect(c.code).toBe(0);
    const arm2 = c.stdout.trim();
    expect(arm2).not.toBe(arm);
    const idx2 = JSON.parse(raw("docker.io/library/busybox:latest")) as ImageIndex;
    expect(idx2.manifests.map((m) => m.digest)).toEqual([amd, arm2]);

    // `kiln images` still lists the name once.
    const imgs = await kiln(["--root", ws.root, "images"]);
    expect(imgs.code).toBe(0);
    expect(imgs.stdout.match(/busybox/g)?.length).toBe(1);
  });
});
