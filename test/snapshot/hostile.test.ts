// Security regressions: hostile layer tars built inside the test. Each must
// fail with HOSTILE_LAYER naming the entry and leave nothing outside dest.
import { readdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pack, type Headers } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractLayer } from "../../src/snapshot/extract.js";
import { tmp } from "./fs-helpers.js";

let base: string;
let outside: string;

beforeAll(async () => {
  base = tmp("hostile");
  outside = path.join(base, "outside");
  await mkdir(outside);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

type E = Headers & { body?: string };

async function tarOf(entries: E[]): Promise<Readable> {
  const p = pack();
  for (const { body, ...h } of entries) p.entry({ mtime: new Date(0), ...h }, body ?? "");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

let n = 0;
async function expectHostile(entries: E[], entryName: string): Promise<void> {
  const dest = path.join(base, `dest${n++}`);
  await mkdir(dest);
  const err = await extractLayer(await tarOf(entries), dest).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: "HOSTILE_LAYER" });
  expect((err as Error).message).toContain(entryName);
  expect(readdirSync(outside)).toEqual([]);
  expect(readdirSync(base).filter((x) => !x.startsWith("dest") && x !== "outside")).toEqual([]);
}

describe("hostile layers", () => {
  it("rejects ../ names", async () => {
    await expectHostile([{ name: "../escape", body: "x" }], "../escape");
    await expectHostile([{ name: "a/../../escape", body: "x" }], "a/../../escape");
  });

  it("rejects absolute names", async () => {
    await expectHostile([{ name: `${outside}/x`, body: "x" }], `${outside}/x`);
    await expectHostile([{ name: "/etc/x", body: "x" }], "/etc/x");
  });

  it("rejects writing through a symlink", async () => {
    await expectHostile(
      [
        { name: "link", type: "symlink", linkname: outside },
        { name: "link/file", body: "x" },
      ],
      "link/file",
    );
    await expectHostile(
      [
        { name: "rel", type: "symlink", linkname: "../outside" },
        { name: "rel/file", body: "x" },
      ],
      "rel/file",
    );
  });

  it("rejects a directory entry under a symlink", async () => {
    await expectHostile(
      [
        { name: "link", type: "symlink", linkname: outside },
        { name: "link/sub", type: "directory" },
      ],
      "link/sub",
    );
  });

  it("rejects hardlinks that leave dest or go through a symlink", async () => {
    await expectHostile([{ name: "pw", type: "link", linkname: "../../etc/passwd" }], "pw");
    await expectHostile([{ name: "pw", type: "link", linkname: "/etc/passwd" }], "pw");
    await expectHostile(
      [
        { name: "etc", type: "symlink", linkname: "/etc" },
        { name: "pw", type: "link", linkname: "etc/passwd" },
      ],
      "pw",
    );
    await expectHostile([{ name: "pw", type: "link", linkname: "missing" }], "pw");
  });

  it("rejects a whiteout of '..'", async () => {
    await expectHostile([{ name: "a/.wh...", body: "" }], "a/.wh...");
  });

  it("lets later entries replace earlier ones without following them", async () => {
    const dest = path.join(base, "replace");
    await mkdir(dest);
    await extractLayer(
      await tarOf([
        { name: "d", type: "directory" },
        { name: "d/f", body: "old" },
        { name: "d", type: "symlink", linkname: outside }, // replaces the dir
        { name: "x", type: "symlink", linkname: `${outside}/owned` },
        { name: "x", body: "file now" }, // replaces the symlink, never writes through it
      ]),
      dest,
    );
    const { lstatSync, readFileSync } = await import("node:fs");
    expect(lstatSync(path.join(dest, "d")).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(dest, "x"), "utf8")).toBe("file now");
    expect(readdirSync(outside)).toEqual([]);
  });

  it("does not let a layer forge overlay xattrs", async () => {
    const dest = path.join(base, "forge");
    await mkdir(dest);
    await extractLayer(
      await tarOf([{ name: "d", type: "directory", pax: { "SCHILY.xattr.trusted.overlay.opaque": "y" } }]),
      dest,
    );
    const { xattrsOf } = await import("./fs-helpers.js");
    expect(xattrsOf(path.join(dest, "d"))).toEqual({});
  });
});
