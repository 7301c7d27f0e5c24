import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Annotation } from "../../src/oci/descriptor.js";
import { type Digest, sha256Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { defaultStoreRoot, Store, withStoreLock } from "../../src/store/index.js";
import { KilnError } from "../../src/util/errors.js";
import { makeTinyImage } from "../helpers/tiny-image.js";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-store-"));
  store = await Store.open(join(dir, "root"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof KilnError ? e.code : `non-kiln: ${String(e)}`;
  }
}

describe("root and layout", () => {
  it("picks $KILN_ROOT, then $XDG_DATA_HOME/kiln, then ~/.local/share/kiln", () => {
    expect(defaultStoreRoot({ KILN_ROOT: "/a", XDG_DATA_HOME: "/b", HOME: "/h" })).toBe("/a");
    expect(defaultStoreRoot({ XDG_DATA_HOME: "/b", HOME: "/h" })).toBe("/b/kiln");
    expect(defaultStoreRoot({ HOME: "/h" })).toBe("/h/.local/share/kiln");
  });

  it("creates an OCI layout and the working folders", async () => {
    expect(JSON.parse(await readFile(join(store.root, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const idx = JSON.parse(await readFile(join(store.root, "index.json"), "utf8"));
    expect(idx).toEqual({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    expect((await readdir(store.root)).sort()).toEqual(["blobs", "cache", "index.json", "locks", "oci-layout", "snapshots", "tmp"]);
  });

  it("reopening never clobbers refs", async () => {
    const img = await makeTinyImage(store);
    await store.tag("x:1", img.manifestDescriptor);
    const again = await Store.open(store.root);
    expect((await again.listImages()).map((r) => r.name)).toEqual(["docker.io/library/x:1"]);
  });
});

describe("blobs", () => {
  it("writes idempotently and reads back", async () => {
    const a = await store.writeBlob("hello");
    const b = await store.writeBlob(Buffer.from("hello"));
    expect(a).toEqual(b);
    expect(a.digest).toBe(sha256Digest("hello"));
    expect(a.size).toBe(5);
    expect(await store.hasBlob(a.digest)).toBe(true);
    expect((await store.readBlob(a.digest)).toString()).toBe("hello");
    expect(await readdir(store.paths.tmp)).toEqual([]);
    expect(await codeOf(store.readBlob(sha256Digest("nope")))).toBe("BLOB_NOT_FOUND");
  });

  it("ingests a stream and verifies it", async () => {
    const data = Buffer.alloc(300_000, 7);
    const info = await store.ingestBlob(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { digest: sha256Digest(data), size: data.length });
    expect(info).toEqual({ digest: sha256Digest(data), size: data.length });
    expect((await store.readBlob(info.digest)).equals(data)).toBe(true);
    // No expectation: just hashes.
    expect((await store.ingestBlob(Readable.from([Buffer.from("abc")]))).digest).toBe(sha256Digest("abc"));
  });

  it("rejects a digest mismatch and leaves nothing behind", async () => {
    const claimed = sha256Digest("the real thing");
    expect(await codeOf(store.ingestBlob(Readable.from([Buffer.from("something else")]), { digest: claimed }))).toBe("DIGEST_MISMATCH");
    expect(await store.hasBlob(claimed)).toBe(false);
    expect(await store.hasBlob(sha256Digest("something else"))).toBe(false);
    expect(await readdir(store.paths.tmp)).toEqual([]);
    expect(await readdir(join(store.paths.blobs, "sha256"))).toEqual([]);
  });

  it("cuts off a stream longer than the expected size", async () => {
    const big = Readable.from((function* () {
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, i);
    })());
    expect(await codeOf(store.ingestBlob(big, { digest: sha256Digest("x"), size: 10 }))).toBe("DIGEST_MISMATCH");
    expect(await readdir(store.paths.tmp)).toEqual([]);
  });

  it("skips ingesting a blob it already has", async () => {
    const { digest, size } = await store.writeBlob("present");
    const src = Readable.from([Buffer.from("never read")]);
    expect(await store.ingestBlob(src, { digest, size })).toEqual({ digest, size });
    expect(src.destroyed).toBe(true);
  });

  it("adopts a finished temp file", async () => {
    const tmp = store.tempPath("layer");
    await writeFile(tmp, "compressed bytes");
    const d = sha256Digest("compressed bytes");
    await store.adoptBlobFile(tmp, d);
    expect((await store.readBlob(d)).toString()).toBe("compressed bytes");
    expect(await readdir(store.paths.tmp)).toEqual([]);
  });
});

describe("images and refs", () => {
  it("writes configs and manifests canonically (key order does not matter)", async () => {
    const a = await store.putImage({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } }, []);
    const b = await store.putImage({ rootfs: { diff_ids: [], type: "layers" }, architecture: "amd64", os: "linux" }, []);
    expect(a).toEqual(b);
    expect(a.mediaType).toBe(MediaType.ociManifest);
    expect(a.platform).toEqual({ os: "linux", architecture: "amd64" });
    const m = await store.readJson<{ config: { digest: Digest } }>(a.digest);
    expect((await store.readBlob(m.config.digest)).toString()).toBe('{"architecture":"amd64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}}');
  });

  it("normalises names on tag, list and resolve", async () => {
    const img = await makeTinyImage(store);
    await store.tag("hello", img.manifestDescriptor);
    await store.tag("hello:1", img.manifestDescriptor);
    await store.tag("127.0.0.1:5000/team/app:2", img.manifestDescriptor);
    const list = await store.listImages();
    expect(list.map((r) => r.name)).toEqual(["127.0.0.1:5000/team/app:2", "docker.io/library/hello:1", "docker.io/library/hello:latest"]);
    expect(list[0]!.descriptor.annotations?.[Annotation.refName]).toBe("127.0.0.1:5000/team/app:2");
    for (const q of ["hello", "hello:latest", "docker.io/library/hello", "library/hello:latest", "index.docker.io/library/hello"]) {
      const r = await store.resolveImage(q);
      expect(r?.name, q).toBe("docker.io/library/hello:latest");
      expect(r?.manifestDescriptor.digest).toBe(img.manifestDescriptor.digest);
      expect(r?.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    }
    expect((await store.resolveImage("hello:1"))?.name).toBe("docker.io/library/hello:1");
    expect(await store.resolveImage("hello:2")).toBeUndefined();
    expect(await store.resolveImage("other")).toBeUndefined();
  });

  it("resolves digests and ID prefixes", async () => {
    const a = await makeTinyImage(store, { label: "a" });
    const b = await makeTinyImage(store, { label: "b" });
    await store.tag("a:1", a.manifestDescriptor);
    await store.tag("b:1", b.manifestDescriptor);
    const md = a.manifestDescriptor.digest;
    expect((await store.resolveImage(md))?.manifestDescriptor.digest).toBe(md);
    expect((await store.resolveImage(md.slice(7, 19)))?.name).toBe("docker.io/library/a:1");
    const manifest = await store.readJson<{ config: { digest: string } }>(md);
    expect((await store.resolveImage(manifest.config.digest.slice(7, 19)))?.name).toBe("docker.io/library/a:1");
    expect((await store.resolveImage(`b@${b.manifestDescriptor.digest}`))?.manifestDescriptor.digest).toBe(b.manifestDescriptor.digest);
    expect(await store.resolveImage(`b@${sha256Digest("nothing")}`)).toBeUndefined();
  });

  it("replaces a ref of the same name and untags", async () => {
    const a = await makeTinyImage(store, { label: "a" });
    const b = await makeTinyImage(store, { label: "b" });
    await store.tag("x:1", a.manifestDescriptor);
    await store.tag("docker.io/library/x:1", b.manifestDescriptor);
    const list = await store.listImages();
    expect(list).toHaveLength(1);
    expect(list[0]!.descriptor.digest).toBe(b.manifestDescriptor.digest);
    expect(await store.untag("x:1")).toBe(true);
    expect(await store.untag("x:1")).toBe(false);
    expect(await store.listImages()).toEqual([]);
  });

  it("refuses refs to incomplete images and digest tags", async () => {
    const missingLayer = { mediaType: MediaType.ociLayerGzip, digest: sha256Digest("not written"), size: 11 };
    const m = await store.putImage({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [sha256Digest("x")] } }, [missingLayer]);
    expect(await codeOf(store.tag("x:1", m))).toBe("MISSING_BLOB");
    expect(await codeOf(store.tag("x:1", { ...m, digest: sha256Digest("no manifest") }))).toBe("MISSING_BLOB");
    const img = await makeTinyImage(store);
    expect(await codeOf(store.tag(`x@${img.manifestDescriptor.digest}`, img.manifestDescriptor))).toBe("INVALID_TAG");
    expect(await codeOf(store.tag("Bad Name", img.manifestDescriptor))).toBe("INVALID_REFERENCE");
    expect(await store.listImages()).toEqual([]);
  });
});

describe("store lock", () => {
  it("serialises callers in one process", async () => {
    let inside = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withStoreLock(store.root, async () => {
          inside++;
          max = Math.max(max, inside);
          await new Promise((r) => setTimeout(r, 1));
          inside--;
        }),
      ),
    );
    expect(max).toBe(1);
    expect(await readdir(store.paths.locks)).toEqual([]);
  });

  it("breaks a lock left by a dead process", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    await writeFile(join(store.paths.locks, "store.lock"), `${dead}\nabc\n`);
    const t0 = Date.now();
    expect(await withStoreLock(store.root, async () => "ran")).toBe("ran");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await readdir(store.paths.locks)).toEqual([]);
  });

  it("waits for a live holder and times out with STORE_LOCKED", async () => {
    await writeFile(join(store.paths.locks, "store.lock"), `${process.ppid}\nabc\n`);
    expect(await codeOf(withStoreLock(store.root, async () => "ran", { timeoutMs: 200 }))).toBe("STORE_LOCKED");
  });
});
