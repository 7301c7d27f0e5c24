// Real overlayfs: a step's changes in the merged view land in the upper dir
// in overlay form; writeLayerTar turns them into OCI whiteouts; extracting
// that layer gives the overlay form back, and stacking it as a lower shows
// the same view the step saw.
import { createReadStream, createWriteStream, existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLayerTar } from "../../src/snapshot/diff.js";
import { extractLayer } from "../../src/snapshot/extract.js";
import { MOUNT_OPTIONS_MAX, mountOverlay, mountReadOnlyView, unmount } from "../../src/snapshot/overlay.js";
import { readTar } from "../../src/tar/tar-reader.js";
import { sh, tmp, xattrsOf } from "./fs-helpers.js";

let base: string;
const mounted: string[] = [];

async function mount(...args: Parameters<typeof mountOverlay>): Promise<void> {
  await mountOverlay(...args);
  mounted.push(args[0].target);
}

beforeAll(async () => {
  base = tmp("overlay");
});

afterAll(async () => {
  for (const m of mounted.reverse()) await unmount(m).catch(() => {});
  await rm(base, { recursive: true, force: true });
});

async function tarNames(tarPath: string): Promise<string[]> {
  const names: string[] = [];
  for await (const { header } of readTar(createReadStream(tarPath))) names.push(header.type === "directory" ? `${header.name}/` : header.name);
  return names;
}

describe("overlay snapshots", () => {
  it("diffs deletions and replaced dirs into whiteouts and back", async () => {
    const lower = path.join(base, "lower");
    await mkdir(path.join(lower, "dir"), { recursive: true });
    await writeFile(path.join(lower, "file"), "lower file");
    await writeFile(path.join(lower, "keep"), "kept");
    await writeFile(path.join(lower, "dir/old1"), "1");
    await writeFile(path.join(lower, "dir/old2"), "2");
    const upper = path.join(base, "upper");
    const work = path.join(base, "work");
    const merged = path.join(base, "merged");
    await Promise.all([mkdir(upper), mkdir(work), mkdir(merged)]);

    await mountOverlay({ lowers: [lower], upper, work, target: merged });
    try {
      expect(readFileSync(path.join(merged, "keep"), "utf8")).toBe("kept");
      await rm(path.join(merged, "file"));
      await rm(path.join(merged, "dir"), { recursive: true });
      await mkdir(path.join(merged, "dir"));
      await writeFile(path.join(merged, "dir/new"), "new");
      await writeFile(path.join(merged, "added"), "added");
    } finally {
      await unmount(merged);
    }

    const tarPath = path.join(base, "diff.tar");
    await writeLayerTar(upper, createWriteStream(tarPath));
    const names = await tarNames(tarPath);
    expect(names).toEqual([".wh.file", "added", "dir/", "dir/.wh..wh..opq", "dir/new"]);

    const layer = path.join(base, "layer");
    await mkdir(layer);
    await extractLayer(createReadStream(tarPath), layer);
    const wh = lstatSync(path.join(layer, "file"));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(xattrsOf(path.join(layer, "dir"))["trusted.overlay.opaque"]).toBe("0x79");
    expect(sh("getfattr", ["--absolute-names", "-n", "trusted.overlay.opaque", "--only-values", path.join(layer, "dir")])).toBe("y");

    // Stack the extracted layer on the original lower: the step's view.
    const view = path.join(base, "view");
    await mkdir(view);
    await mountReadOnlyView([layer, lower], view);
    mounted.push(view);
    expect(readdirSync(view).sort()).toEqual(["added", "dir", "keep"]);
    expect(readdirSync(path.join(view, "dir"))).toEqual(["new"]);
    await unmount(view);
    mounted.pop();
  });

  it("gives a read-only view of a single extracted layer with its whiteouts hidden", async () => {
    const layer = path.join(base, "single");
    await mkdir(layer);
    await writeFile(path.join(layer, "kept"), "k");
    sh("mknod", [path.join(layer, "gone"), "c", "0", "0"]);
    const view = path.join(base, "single-view");
    await mkdir(view);
    await mountReadOnlyView([layer], view);
    mounted.push(view);
    try {
      expect(readdirSync(view)).toEqual(["kept"]);
      await expect(writeFile(path.join(view, "x"), "x")).rejects.toMatchObject({ code: "EROFS" });
    } finally {
      await unmount(view);
      mounted.pop();
    }
  });

  it("mounts FROM scratch (no lowers)", async () => {
    const upper = path.join(base, "s-upper");
    const work = path.join(base, "s-work");
    const target = path.join(base, "s-merged");
    await Promise.all([mkdir(upper), mkdir(target)]);
    await mount({ lowers: [], upper, work, target });
    await writeFile(path.join(target, "hello"), "hi");
    await unmount(target);
    mounted.pop();
    expect(readdirSync(upper)).toEqual(["hello"]);
  });

  it("mounts a deep chain whose absolute lowerdir would overflow the page limit", async () => {
    const store = path.join(base, "snapshots-with-a-rather-long-directory-name-to-make-paths-long");
    const lowers: string[] = [];
    for (let i = 0; i < 120; i++) {
      const d = path.join(store, String(i), "fs");
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, `f${i}`), String(i));
      lowers.unshift(d); // topmost first
    }
    expect(lowers.join(":").length).toBeGreaterThan(MOUNT_OPTIONS_MAX);
    const upper = path.join(store, "up", "fs");
    const work = path.join(store, "up", "work");
    const target = path.join(base, "deep-merged");
    await Promise.all([mkdir(upper, { recursive: true }), mkdir(target)]);
    await mount({ lowers, upper, work, target });
    expect(readdirSync(target).length).toBe(120);
    await unmount(target);
    mounted.pop();
  });

  it("reports a chain too long even for relative paths", async () => {
    const lowers = Array.from({ length: 400 }, (_, i) => path.join(base, `x${i}`, "a-long-component-name-that-does-not-fit"));
    await expect(
      mountOverlay({ lowers, upper: path.join(base, "u9"), work: path.join(base, "w9"), target: path.join(base, "t9") }),
    ).rejects.toMatchObject({ code: "OVERLAY_TOO_DEEP" });
    expect(existsSync(path.join(base, "w9"))).toBe(false);
  });
});
