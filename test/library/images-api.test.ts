// The image commands as library functions (what kiln index create|inspect,
// rmi and image prune call): typed results instead of printed lines, on a
// real store, checked through the store and skopeo.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createIndex, inspectIndex, pruneImages, removeImages, Store } from "../../src/index.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("image functions of the library", () => {
  const ws = useWorkspace({ name: "imgapi" });

  it("createIndex tags an index of the images; inspectIndex lists it; skopeo reads it", async () => {
    const store = await Store.open(ws.root);
    const img = await makeTinyImage(store, { label: "a" });
    await store.tag("app:amd64", img.manifestDescriptor);
    const dry = await createIndex(store, ["app:amd64"], { tags: ["app:dry"], dryRun: true });
    expect(dry.tags).toEqual([]);
    expect(await store.resolveImage("app:dry")).toBeUndefined();
    const r = await createIndex(store, ["app:amd64"], { tags: ["app:1"] });
    expect(r.index.digest).toBe(dry.index.digest);
    expect(r.tags).toEqual(["docker.io/library/app:1"]);
    expect(JSON.parse(r.json).manifests.map((m: { digest: string }) => m.digest)).toEqual([img.manifestDescriptor.digest]);
    const raw = execFileSync("skopeo", ["inspect", "--raw", `oci:${ws.root}:docker.io/library/app:1`]);
    expect(raw.toString()).toBe(r.json);
    const seen = await inspectIndex(store, "app:1");
    expect(seen.descriptor.digest).toBe(r.index.digest);
    expect(seen.manifests?.map((m) => [m.digest, m.platform?.architecture])).toEqual([[img.manifestDescriptor.digest, "amd64"]]);
    expect((await inspectIndex(store, "app:amd64")).platform).toMatchObject({ os: "linux", architecture: "amd64" });
    await expect(createIndex(store, ["nosuch:1"])).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
  });

  it("removeImages reports per image (a refusal does not stop the rest) and what the GC deleted; pruneImages -a by label", async () => {
    const store = await Store.open(ws.root);
    const b = await makeTinyImage(store, { label: "b", files: { b: "b\n" } });
    await store.tag("b:1", b.manifestDescriptor);
    await store.tag("b:2", b.manifestDescriptor);
    const r = await removeImages(store, [b.manifestDescriptor.digest, "b:2", "nosuch:1"]);
    expect(r.outcomes[0]).toMatchObject({ error: { code: "CONFLICT" } });
    expect(r.outcomes[1]).toEqual({ image: "b:2", untagged: ["b:2"] });
    expect(r.outcomes[2]).toMatchObject({ error: { code: "IMAGE_NOT_FOUND" } });
    expect(r.deleted).toEqual([]); // b:1 still names it
    const gone = await removeImages(store, ["b:1"]);
    expect(gone.deleted).toEqual([b.manifestDescriptor.digest]);
    expect(await store.hasBlob(b.manifestDescriptor.digest)).toBe(false);

    const c = await makeTinyImage(store, { label: "c", files: { c: "c\n" } });
    await store.tag("c:1", c.manifestDescriptor);
    const p = await pruneImages(store, { all: true, filters: [{ kind: "label", key: "test", value: "c" }] });
    expect(p.untagged).toEqual(["c:1"]);
    expect(p.deleted).toEqual([c.manifestDescriptor.digest]);
    expect(p.reclaimedBytes).toBeGreaterThan(0);
    // app:1 and app:amd64 (label a) were not selected.
    expect((await store.listImages()).map((x) => x.name).sort()).toEqual(["docker.io/library/app:1", "docker.io/library/app:amd64"]);
  });
});
