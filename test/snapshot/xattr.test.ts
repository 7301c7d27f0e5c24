// One getfattr/setfattr spawn per tree: names that the attr tools escape
// (newline, backslash) and binary values must survive dump → restore.
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpXattrs, restoreXattrs } from "../../src/fsutil/xattr.js";
import { tmp } from "./fs-helpers.js";

let base: string;
beforeAll(() => {
  base = tmp("xattr");
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("tree xattrs", () => {
  it("round-trips escaped names and binary values, never following symlinks", async () => {
    const src = path.join(base, "t");
    await mkdir(path.join(src, "sub"), { recursive: true });
    const weird = path.join(src, "sub", "new\nline\\back=eq");
    await writeFile(weird, "");
    const target = path.join(base, "target");
    await writeFile(target, "");
    await symlink(target, path.join(src, "link"));
    const value = Buffer.from([0x00, 0x80, 0xff, 0x0a, 0x3d]);
    await restoreXattrs([
      [weird, new Map([["user.bin", value], ["user.text", Buffer.from("a=b")]])],
      [path.join(src, "sub"), new Map([["trusted.overlay.opaque", Buffer.from("y")]])],
    ]);
    const dumped = await dumpXattrs(src);
    expect(dumped.get(weird)?.get("user.bin")).toEqual(value);
    expect(dumped.get(weird)?.get("user.text")?.toString()).toBe("a=b");
    expect(dumped.get(path.join(src, "sub"))?.get("trusted.overlay.opaque")?.toString()).toBe("y");
    // The symlink's target is outside the tree and has no xattrs reported through the link.
    await restoreXattrs([[target, new Map([["user.outside", Buffer.from("x")]])]]);
    expect((await dumpXattrs(src)).has(path.join(src, "link"))).toBe(false);
  });
});
