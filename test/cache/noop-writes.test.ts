// A no-op rebuild reads the store and writes nothing in it but the access
// times of the cache records it used (`kiln cache prune` drops the least
// recently used first). Rewriting a file with the same content (the tag,
// the `last/` pointers, the stat memo) costs a temp file, an fsync or a
// rename for nothing, and leaves every file's mtime meaningless.
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO, storeWithBusybox } from "../helpers/kiln.js";

// The no-op rebuild benchmark's context: 16 instructions over 3 stages.
const CTX = path.join(REPO, "testdata/bench-15");

interface Entry {
  readonly ino: number;
  readonly mtimeNs: bigint;
  readonly size: number;
}

/** Every file and symlink under `dir` (directories themselves left out). */
async function filesUnder(dir: string, out = new Map<string, Entry>(), rel = ""): Promise<Map<string, Entry>> {
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, d.name);
    if (d.isDirectory()) await filesUnder(dir, out, r);
    else {
      const st = await lstat(path.join(dir, r), { bigint: true });
      out.set(r, { ino: Number(st.ino), mtimeNs: st.mtimeNs, size: Number(st.size) });
    }
  }
  return out;
}

describe("no-op rebuild", () => {
  let root: string;
  const build = async () => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", "-t", "bench:1", CTX]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const [, executed, cached] = /(\d+) steps run, (\d+) cached/.exec(r.stderr)!;
    return { executed: Number(executed), cached: Number(cached), digest: /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr)![1] };
  };

  beforeAll(async () => {
    root = await storeWithBusybox();
    expect((await build()).executed).toBeGreaterThan(0);
    // A second pass settles what the first no-op may still write: context
    // files checked out less than a second before the first build are hashed
    // again (racily clean), and the stat memo saved.
    expect((await build()).executed).toBe(0);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes no file in the store but the used cache records' mtimes", async () => {
    const before = await filesUnder(root);
    const r = await build();
    expect(r.executed).toBe(0);
    const after = await filesUnder(root);

    // Nothing created or removed: no temp file, lock or lease left behind.
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after].filter(([p, e]) => {
      const b = before.get(p)!;
      return b.ino !== e.ino || b.mtimeNs !== e.mtimeNs || b.size !== e.size;
    });
    // Only records, each touched in place (same inode, same size): index.json,
    // the `last/` pointers, the memo and the layer-blob records are untouched.
    expect(changed.map(([p]) => p).filter((p) => path.dirname(p) !== path.join("cache", "steps"))).toEqual([]);
    for (const [p, e] of changed) {
      expect(e.ino).toBe(before.get(p)!.ino);
      expect(e.size).toBe(before.get(p)!.size);
    }
    expect(changed).toHaveLength(r.cached);
  });
});
