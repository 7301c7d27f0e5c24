// kiln save writes docker and OCI tars that skopeo (not our code) reads;
// kiln load reads them back, and also reads what skopeo writes (a classic
// docker-archive with uncompressed layer.tar files, and an oci-archive).
// A tar whose layer does not match its config's diff_id is refused.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import tar from "tar-stream";
import { beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { makeLayerTar, makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { run } from "./helpers.js";

const skopeo = (...args: string[]) => execFileSync("skopeo", ["--insecure-policy", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("kiln save / load", () => {
  const ws = useWorkspace({ busybox: true, name: "saveload" });
  let busyboxId: string;
  let tinyId: string;

  beforeAll(async () => {
    const store = await Store.open(ws.root);
    busyboxId = (await store.resolveImage("busybox"))!.manifestDescriptor.digest;
    const tiny = await makeTinyImage(store);
    await store.tag("tiny:1", tiny.manifestDescriptor);
    tinyId = tiny.manifestDescriptor.digest;
  });

  it("saves several images as a docker tar that skopeo reads, and loads it into another store", async () => {
    const out = path.join(ws.work, "both.tar");
    const s = await run(ws.root, "save", ["-o", out, "busybox", "tiny:1", tinyId.slice(7, 19)]);
    expect(s).toMatchObject({ code: 0, stderr: "" });
    const inspected = JSON.parse(skopeo("inspect", `docker-archive:${out}:tiny:1`)) as { Layers: string[] };
    expect(inspected.Layers).toHaveLength(1);
    skopeo("inspect", `docker-archive:${out}:busybox:latest`);
    const other = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    try {
      const l = await run(other, "load", ["-i", out]);
      expect(l.code).toBe(0);
      expect(l.stdout).toBe("Loaded image: busybox:latest\nLoaded image: tiny:1\n");
      const ids = await run(other, "images", ["--format", "{{.Repository}} {{.Digest}}"]);
      // The docker 25+ shape carries the OCI manifests: the IDs survive the trip.
      expect(ids.stdout.split("\n").sort().join("\n").trim()).toBe(`busybox ${busyboxId}\ntiny ${tinyId}`);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("saves an OCI tar that skopeo reads; load keeps the name", async () => {
    const out = path.join(ws.work, "tiny-oci.tar");
    expect((await run(ws.root, "save", ["--format", "oci", "-o", out, "tiny:1"])).code).toBe(0);
    const inspected = JSON.parse(skopeo("inspect", `oci-archive:${out}`)) as { Digest: string };
    expect(inspected.Digest).toBe(tinyId);
    const other = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    try {
      expect((await run(other, "load", ["-i", out])).stdout).toBe("Loaded image: tiny:1\n");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("loads what skopeo writes: a classic docker-archive and an oci-archive", async () => {
    const classic = path.join(ws.work, "skopeo-docker.tar");
    const oci = path.join(ws.work, "skopeo-oci.tar");
    skopeo("copy", `oci:${ws.root}:docker.io/library/busybox:latest`, `docker-archive:${classic}:example.com/bb:classic`);
    skopeo("copy", `oci:${ws.root}:docker.io/library/busybox:latest`, `oci-archive:${oci}:example.com/bb:oci`);
    const other = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    try {
      expect((await run(other, "load", ["-i", classic])).stdout).toBe("Loaded image: example.com/bb:classic\n");
      expect((await run(other, "load", ["-i", oci])).stdout).toBe("Loaded image: example.com/bb:oci\n");
      const store = await Store.open(other);
      const a = await store.resolveImage("example.com/bb:classic");
      const b = await store.resolveImage("example.com/bb:oci");
      expect(a!.config.rootfs.diff_ids).toEqual(b!.config.rootfs.diff_ids);
      // What kiln stored is a valid OCI layout entry skopeo can read back.
      skopeo("inspect", `oci:${other}:example.com/bb:classic`);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("refuses a tar whose layer does not match the config's diff_id, and names nothing", async () => {
    const good = await makeLayerTar({ "a.txt": "a" });
    const evil = await makeLayerTar({ "a.txt": "b" });
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [`sha256:${(await import("node:crypto")).createHash("sha256").update(good).digest("hex")}`] },
    });
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => pack.on("end", r));
    pack.entry({ name: "cfg.json" }, config);
    pack.entry({ name: "l1/layer.tar" }, evil);
    pack.entry({ name: "manifest.json" }, JSON.stringify([{ Config: "cfg.json", RepoTags: ["evil:1"], Layers: ["l1/layer.tar"] }]));
    pack.finalize();
    await done;
    const file = path.join(ws.work, "evil.tar");
    await writeFile(file, Buffer.concat(chunks));
    const other = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    try {
      const r = await run(other, "load", ["-i", file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unpacks to sha256:.*but the image config says/);
      expect((await run(other, "images", ["-q"])).stdout).toBe("");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("refuses a blobs/ entry whose bytes do not hash to its name", async () => {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => pack.on("end", r));
    pack.entry({ name: `blobs/sha256/${"0".repeat(64)}` }, "not that");
    pack.entry({ name: "index.json" }, JSON.stringify({ schemaVersion: 2, manifests: [] }));
    pack.finalize();
    await done;
    const file = path.join(ws.work, "bad-blob.tar");
    await writeFile(file, Buffer.concat(chunks));
    const r = await run(ws.root, "load", ["-i", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not match sha256:0000/);
  });

  it("save needs -o and an existing image", async () => {
    expect((await run(ws.root, "save", ["tiny:1"])).code).toBe(2);
    expect((await run(ws.root, "save", ["-o", path.join(ws.work, "x.tar"), "nope:1"])).code).toBe(1);
  });
});
