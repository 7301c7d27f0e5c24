// Files kiln reads that a hostile image or context controls: an image's
// /etc/passwd that is a FIFO, /dev/zero, huge or a link out of the root;
// a FIFO in the build context; a layer whose 0:0 character device would
// become an overlay whiteout. Each gives a clear error or the faithful
// result — never a hang, an unbounded read or a silent deletion.
import { execFileSync } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hostileTar, type HostileEntry } from "../helpers/hostile-tar.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("hostile files", () => {
  const ws = useWorkspace({ name: "hostile-files", context: { "f.txt": "data\n" } });

  /** Imports a root filesystem made of `entries` as image `name`. */
  const importImage = async (name: string, entries: HostileEntry[]) => {
    const file = path.join(ws.work, `${name}.tar`);
    await writeFile(file, await hostileTar([{ name: "etc/", type: "directory" }, ...entries]));
    return kiln(["--root", ws.root, "import", file, `${name}:1`]);
  };

  const buildOn = async (image: string, dockerfile: string) => {
    await writeFile(path.join(ws.ctx, "Dockerfile"), `FROM ${image}:1\n${dockerfile}`);
    return kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${path.join(ws.work, `out-${image}`)}`, ws.ctx]);
  };

  const cases: [string, HostileEntry, RegExp][] = [
    ["a FIFO", { name: "etc/passwd", type: "fifo" }, /the image's \/etc\/passwd is a FIFO, not a regular file/],
    ["/dev/zero", { name: "etc/passwd", type: "character-device", devmajor: 1, devminor: 5 }, /the image's \/etc\/passwd is a character device, not a regular file/],
    ["huge", { name: "etc/passwd", content: "x".repeat(16 * 1024 * 1024 + 1) }, /the image's \/etc\/passwd is 16777217 bytes, over the 16777216-byte limit/],
  ];
  for (const [what, entry, want] of cases) {
    it(`an image whose /etc/passwd is ${what}: USER lookup is a clear error, not a hang or an unbounded read`, async () => {
      const name = `passwd-${what.replace(/\W+/g, "").toLowerCase()}`;
      const imported = await importImage(name, [entry]);
      expect(imported.stderr).toBe("");
      expect(imported.code).toBe(0);
      const r = await buildOn(name, "COPY --chown=app f.txt /f.txt\n");
      expect(r.stderr).toMatch(new RegExp(`Dockerfile:2: --chown=app: ${want.source}`));
      expect(r.code).toBe(1);
    }, 30_000);
  }

  it("an image's /etc/group that is a FIFO is refused the same way", async () => {
    expect((await importImage("group-fifo", [{ name: "etc/passwd", content: "app:x:1000:1000::/home/app:/bin/sh\n" }, { name: "etc/group", type: "fifo" }])).code).toBe(0);
    const r = await buildOn("group-fifo", "COPY --chown=app:app f.txt /f.txt\n");
    expect(r.stderr).toMatch(/the image's \/etc\/group is a FIFO, not a regular file/);
    expect(r.code).toBe(1);
  }, 30_000);

  it("an /etc/passwd symlink out of the root reads the image's own file, never the host's", async () => {
    // The host has a "daemon" user in /etc/passwd; inside the image the link
    // leads to /etc/passwd.d/../../../.. = /, so to the image's absent /host-passwd.
    expect((await importImage("passwd-link", [{ name: "etc/passwd", type: "symlink", linkname: "/../../../../../../host-passwd" }])).code).toBe(0);
    const r = await buildOn("passwd-link", "COPY --chown=daemon f.txt /f.txt\n");
    expect(r.stderr).toMatch(/unable to find user daemon: no matching entries in the image's \/etc\/passwd/);
    expect(r.code).toBe(1);
  }, 30_000);

  it("ADD and COPY of a FIFO in the build context never wait on it", async () => {
    execFileSync("mkfifo", [path.join(ws.ctx, "pipe")]);
    try {
      await writeFile(path.join(ws.ctx, "Dockerfile"), "FROM scratch\nADD pipe /added\nCOPY pipe f.txt /copied/\n");
      const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${path.join(ws.work, "out-fifo")}`, ws.ctx]);
      expect(r.stderr).not.toMatch(/^error/m);
      expect(r.code).toBe(0);
      // A FIFO has no content to copy; the regular file beside it is copied.
      expect(await readdir(path.join(ws.work, "out-fifo/copied"))).toContain("f.txt");
    } finally {
      execFileSync("rm", ["-f", path.join(ws.ctx, "pipe")]);
    }
  }, 30_000);

  it("a layer's 0:0 character device (not a .wh. whiteout) is refused, naming the layer and the entry", async () => {
    const r = await importImage("dev00", [{ name: "etc/hidden", type: "character-device", devmajor: 0, devminor: 0 }]);
    expect(r.stderr).toMatch(/dev00\.tar: entry "etc\/hidden" is a character device 0:0, which overlayfs would read as a whiteout/);
    expect(r.code).toBe(1);
  });
});
