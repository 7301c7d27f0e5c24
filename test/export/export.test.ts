// OCI layout (dir and tar) and docker-archive exports, read back by skopeo.
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import tar from "tar-stream";
import { beforeAll, describe, expect, it } from "vitest";
import { exportDockerArchive, exportOciLayout, type ExportImage } from "../../src/export/index.js";
import { Annotation } from "../../src/oci/descriptor.js";
import { Store } from "../../src/store/index.js";
import { makeTinyImage, type TinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";

const run = promisify(execFile);
const ws = useWorkspace({ name: "export" });
let store: Store;
let tiny: TinyImage;
let image: ExportImage;

beforeAll(async () => {
  store = await Store.open(ws.root);
  tiny = await makeTinyImage(store);
  await store.tag("x:1", tiny.manifestDescriptor);
  const r = await store.resolveImage("x:1");
  image = r!;
});

async function tarEntries(file: string): Promise<{ name: string; mtime: number; uid: number; type: string; body: Buffer }[]> {
  const out: { name: string; mtime: number; uid: number; type: string; body: Buffer }[] = [];
  const ex = tar.extract();
  ex.on("entry", (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      out.push({ name: h.name, mtime: h.mtime ? h.mtime.getTime() / 1000 : -1, uid: h.uid ?? -1, type: h.type ?? "file", body: Buffer.concat(chunks) });
      next();
    });
  });
  await new Promise((res, rej) => {
    ex.on("finish", res);
    ex.on("error", rej);
    createReadStream(file).pipe(ex);
  });
  return out;
}

interface SkopeoInfo {
  Digest: string;
  Layers: string[];
  Os: string;
  Architecture: string;
}

describe("exportOciLayout", () => {
  it("writes a layout directory skopeo reads by tag", async () => {
    const dest = join(ws.work, "oci-dir");
    const res = await exportOciLayout({ store, image, dest, tar: false, name: "x:1" });
    expect(res.manifest.digest).toBe(tiny.manifestDescriptor.digest);
    const idx = JSON.parse(await readFile(join(dest, "index.json"), "utf8"));
    expect(idx.manifests).toHaveLength(1);
    expect(idx.manifests[0].annotations).toEqual({ [Annotation.refName]: "1", [Annotation.containerdImageName]: "docker.io/library/x:1" });
    const info = JSON.parse((await run("skopeo", ["inspect", `oci:${dest}:1`])).stdout) as SkopeoInfo;
    expect(info.Digest).toBe(tiny.manifestDescriptor.digest);
    expect(info.Layers).toEqual([tiny.layer.digest]);
    const copy = join(ws.work, "copied");
    await run("skopeo", ["copy", `oci:${dest}:1`, `dir:${copy}`]);
    expect((await readdir(copy)).sort()).toContain(tiny.layer.digest.slice(7));
  });

  it("replaces an existing directory and honours refName", async () => {
    const dest = join(ws.work, "oci-dir2");
    await exportOciLayout({ store, image, dest, tar: false });
    await writeFile(join(dest, "junk"), "x");
    await exportOciLayout({ store, image, dest, tar: false, refName: "custom" });
    expect((await readdir(dest)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    const info = JSON.parse((await run("skopeo", ["inspect", `oci:${dest}:custom`])).stdout) as SkopeoInfo;
    expect(info.Digest).toBe(tiny.manifestDescriptor.digest);
  });

  it("writes a deterministic oci-archive tar", async () => {
    const a = join(ws.work, "a.tar");
    const b = join(ws.work, "b.tar");
    await exportOciLayout({ store, image, dest: a, tar: true, name: "x:1" });
    await exportOciLayout({ store, image, dest: b, tar: true, name: "x:1" });
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
    const entries = await tarEntries(a);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(["blobs/", "blobs/sha256/", ...[tiny.manifestDescriptor, tiny.layer, image.manifest.config].map((d) => `blobs/sha256/${d.digest.slice(7)}`).sort(), "index.json", "oci-layout"]);
    expect(entries.every((e) => e.mtime === 0 && e.uid === 0)).toBe(true);
    const info = JSON.parse((await run("skopeo", ["inspect", `oci-archive:${a}`])).stdout) as SkopeoInfo;
    expect(info.Digest).toBe(tiny.manifestDescriptor.digest);
    expect(info.Layers).toEqual([tiny.layer.digest]);
    expect(JSON.parse((await run("skopeo", ["inspect", `oci-archive:${a}:1`])).stdout).Digest).toBe(tiny.manifestDescriptor.digest);
  });

  it("stamps entries with the given mtime (SOURCE_DATE_EPOCH)", async () => {
    const t = join(ws.work, "epoch.tar");
    await exportOciLayout({ store, image, dest: t, tar: true, mtime: 1_700_000_000 });
    expect((await tarEntries(t)).every((e) => e.mtime === 1_700_000_000)).toBe(true);
  });

  it("takes layers from getLayerBlob and rejects a wrong file", async () => {
    const seen: string[] = [];
    const dest = join(ws.work, "via-getter");
    await exportOciLayout({ store, image, dest, tar: false, getLayerBlob: async (l) => (seen.push(l.digest), store.blobPath(l.digest)) });
    expect(seen).toEqual([tiny.layer.digest]);
    const wrong = join(ws.work, "wrong");
    await writeFile(wrong, "short");
    await expect(exportOciLayout({ store, image, dest: join(ws.work, "bad"), tar: false, getLayerBlob: async () => wrong })).rejects.toMatchObject({ code: "BLOB_SIZE_MISMATCH" });
    expect((await readdir(ws.work)).filter((n) => n.includes("kiln-tmp") || n === "bad")).toEqual([]);
  });
});

describe("exportDockerArchive", () => {
  it("streams to a Writable and creates missing parent folders for files", async () => {
    const viaStream = join(ws.work, "stream.tar");
    await exportDockerArchive({ store, image, dest: createWriteStream(viaStream), repoTags: ["x:1"] });
    const viaFile = join(ws.work, "deep", "er", "file.tar");
    await exportDockerArchive({ store, image, dest: viaFile, repoTags: ["x:1"] });
    expect((await readFile(viaStream)).equals(await readFile(viaFile))).toBe(true);
  });

  it("writes a docker load tar with manifest.json, repositories and an OCI layout", async () => {
    const dest = join(ws.work, "docker.tar");
    await exportDockerArchive({ store, image, dest, repoTags: ["x:1", "127.0.0.1:5000/team/x:2"] });
    const entries = await tarEntries(dest);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const hex = (d: { digest: string }) => `blobs/sha256/${d.digest.slice(7)}`;
    const manifestJson = JSON.parse(byName.get("manifest.json")!.body.toString());
    expect(manifestJson).toEqual([{ Config: hex(image.manifest.config), RepoTags: ["x:1", "127.0.0.1:5000/team/x:2"], Layers: [hex(tiny.layer)] }]);
    expect(JSON.parse(byName.get("repositories")!.body.toString())).toEqual({
      x: { "1": tiny.layer.digest.slice(7) },
      "127.0.0.1:5000/team/x": { "2": tiny.layer.digest.slice(7) },
    });
    for (const n of ["oci-layout", "index.json", hex(tiny.manifestDescriptor), hex(image.manifest.config), hex(tiny.layer)]) expect(byName.has(n), n).toBe(true);
    const idx = JSON.parse(byName.get("index.json")!.body.toString());
    expect(idx.manifests.map((m: { annotations: Record<string, string> }) => m.annotations[Annotation.containerdImageName])).toEqual([
      "docker.io/library/x:1",
      "127.0.0.1:5000/team/x:2",
    ]);

    const info = JSON.parse((await run("skopeo", ["inspect", `docker-archive:${dest}`])).stdout) as SkopeoInfo & { RepoTags: string[] };
    expect(info.Os).toBe("linux");
    expect(info.Layers).toHaveLength(1);
    const cfg = JSON.parse((await run("skopeo", ["inspect", "--config", `docker-archive:${dest}`])).stdout);
    expect(cfg.rootfs.diff_ids).toEqual(tiny.config.rootfs.diff_ids);
    // skopeo reads the gzip layer and finds the diff_id the config promises.
    await run("skopeo", ["copy", `docker-archive:${dest}`, `oci:${join(ws.work, "from-docker")}:x`]);
    // The OCI half of the same tar is readable too.
    expect(JSON.parse((await run("skopeo", ["inspect", `oci-archive:${dest}:1`])).stdout).Digest).toBe(tiny.manifestDescriptor.digest);
  });
});
