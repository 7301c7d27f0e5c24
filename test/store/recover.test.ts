// What a killed kiln leaves in tmp/ is swept by the next command, whatever
// the temp file's name hint: writeFileDurable names its temp file after the
// destination ("index.json.<pid>.<hex>"), which the sweep used to skip.
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Store, tempPath } from "../../src/store/index.js";
import { recoverInterrupted } from "../../src/store/recover.js";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-recover-"));
  store = await Store.open(join(dir, "root"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("recoverInterrupted", () => {
  it("removes every temp file of a dead process and none of a live one", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    const tmp = store.paths.tmp;
    const ofDead = ["index.json", "stat-memo.json", "0a1b2c.json", "blob"].map((h) => tempPath(tmp, h).replace(`.${process.pid}.`, `.${dead}.`));
    const ofLive = ["index.json", "blob"].map((h) => tempPath(tmp, h));
    for (const f of [...ofDead, ...ofLive]) await writeFile(f, "x");
    const removed = await recoverInterrupted(store.paths);
    expect(removed.sort()).toEqual(ofDead.sort());
    expect((await readdir(tmp)).sort()).toEqual(ofLive.map((f) => f.slice(tmp.length + 1)).sort());
  });
});
