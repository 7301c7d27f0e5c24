// `kiln save` without -o and `kiln load` without -i use stdout and stdin as
// docker's do: `kiln save IMAGE > FILE`, `kiln load < FILE` and `kiln save
// IMAGE | kiln load` move an image between stores; a terminal is refused,
// not filled with a tar. Run as users run it, node bin/kiln.js in a shell.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("kiln save to stdout, kiln load from stdin", () => {
  const ws = useWorkspace({ busybox: true, name: "save-stdout" });
  let busybox: string;
  beforeAll(async () => {
    await requireBuilt("src/cli/image-archive-commands.ts", "src/cli/main.ts");
    busybox = (await (await Store.open(ws.root)).resolveImage("busybox:latest"))!.manifestDescriptor.digest;
  });
  const digestIn = async (root: string) => (await (await Store.open(root)).resolveImage("busybox:latest"))?.manifestDescriptor.digest;

  it("kiln save IMAGE > FILE writes the same tar as -o; kiln load -i FILE gives the same image in another store", async () => {
    const file = path.join(ws.work, "redirected.tar");
    const saved = shell(`kiln --root ${sh(ws.root)} save busybox:latest > ${sh(file)}`);
    expect(saved, saved.stderr).toMatchObject({ code: 0, stderr: "" });
    const withO = path.join(ws.work, "with-o.tar");
    expect(shell(`kiln --root ${sh(ws.root)} save -o ${sh(withO)} busybox:latest`).code).toBe(0);
    expect((await readFile(file)).equals(await readFile(withO))).toBe(true);
    const other = path.join(ws.work, "store-from-file");
    const loaded = shell(`kiln --root ${sh(other)} load -i ${sh(file)}`);
    expect(loaded, loaded.stderr).toMatchObject({ code: 0, stdout: "Loaded image: busybox:latest\n" });
    expect(await digestIn(other)).toBe(busybox);
  });

  it("kiln load < FILE reads stdin when -i is absent", async () => {
    const file = path.join(ws.work, "for-stdin.tar");
    expect(shell(`kiln --root ${sh(ws.root)} save busybox:latest > ${sh(file)}`).code).toBe(0);
    const other = path.join(ws.work, "store-from-stdin");
    const loaded = shell(`kiln --root ${sh(other)} load < ${sh(file)}`);
    expect(loaded, loaded.stderr).toMatchObject({ code: 0, stdout: "Loaded image: busybox:latest\n" });
    expect(await digestIn(other)).toBe(busybox);
  });

  it("kiln save IMAGE | kiln load moves the image through a pipe, --format oci too", async () => {
    for (const format of ["docker", "oci"]) {
      const other = path.join(ws.work, `store-from-pipe-${format}`);
      // The slow reader leaves the tar queued in the pipe when save's command
      // returns: save must still hand over every byte before kiln exits.
      const piped = shell(`kiln --root ${sh(ws.root)} save --format ${format} busybox:latest | (sleep 1; kiln --root ${sh(other)} load)`);
      expect(piped, piped.stderr).toMatchObject({ code: 0, stdout: "Loaded image: busybox:latest\n" });
      expect(await digestIn(other)).toBe(busybox);
    }
  });

  it("on a terminal, save without -o refuses with docker's words and writes nothing; load without -i refuses too", () => {
    // script(1) gives the command a pseudo-terminal as stdin and stdout.
    const onTty = (cmd: string) => shell(`script -qec ${sh(cmd)} /dev/null`);
    const save = onTty(`node "$KILN_BIN" --root ${sh(ws.root)} save busybox:latest`);
    expect(save.code).toBe(2);
    expect(save.stdout).toMatch(/^error: cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
    expect(save.stdout.length).toBeLessThan(300); // the message only, no tar
    const load = onTty(`node "$KILN_BIN" --root ${sh(ws.root)} load`);
    expect(load.code).toBe(2);
    expect(load.stdout).toMatch(/stdin is a terminal/);
  });
});
