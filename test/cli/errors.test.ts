// Errors a user switching from docker build meets, as they see them through
// bin/kiln.js: each says what is wrong and what kiln needs, once.
import { execFileSync } from "node:child_process";
import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("error messages", () => {
  const ws = useWorkspace({ busybox: true, name: "errs" });
  const build = (name: string, dockerfile: string, flags = "") =>
    shell(`mkdir -p ${sh(path.join(ws.work, name))} && printf '%s\\n' ${sh(dockerfile)} > ${sh(path.join(ws.work, name, "Dockerfile"))} && kiln --root ${sh(ws.root)} build --progress plain ${flags} ${sh(path.join(ws.work, name))}`);
  const small = () => path.join(ws.work, "small");
  beforeAll(async () => {
    await requireBuilt("src/cli/errors.ts", "src/exec/run-container.ts", "src/context/select-sources.ts", "src/cli/image-remove-commands.ts");
  });
  afterAll(() => {
    execFileSync("sh", ["-c", `mountpoint -q ${sh(small())} && umount ${sh(small())} || true`]);
  });

  it("the instruction-typo hint is printed once", () => {
    const r = build("typo", "FROM busybox\nENTRYPONT [\"x\"]");
    expect(r.code).toBe(1);
    expect(r.stderr.match(/did you mean ENTRYPOINT\?/g)).toHaveLength(1);
  });

  it("COPY --from=STAGE of a missing file names the stage, not the build context", () => {
    const r = build("fromstage", "FROM busybox AS builder\nFROM busybox\nCOPY --from=builder /not/there /x");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:3: "\/not\/there" not found in --from=builder/);
    expect(r.stderr).not.toMatch(/not found in the build context/);
  });

  it("a RUN on an image without /bin/sh says so, not 'check that runc works'", () => {
    const r = build("nosh", "FROM busybox AS b\nFROM scratch\nCOPY --from=b /bin/busybox /busybox\nRUN echo hi");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:4: \/bin\/sh does not exist in the image — a shell-form RUN needs \/bin\/sh/);
    expect(r.stderr).not.toMatch(/check that the OCI runtime works/);
    const exec = build("nosh-exec", "FROM busybox AS b\nFROM scratch\nCOPY --from=b /bin/busybox /busybox\nRUN [\"/busybox\", \"true\"]");
    expect(exec.code, exec.stderr).toBe(0);
  });

  it("ENOSPC names the store and the prune commands; EACCES as a non-root user says the store must be theirs", async () => {
    await mkdir(small(), { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", small()]);
    const full = shell(`bash ${sh(path.join(REPO, "scripts/busybox-rootfs.sh"))} ${sh(path.join(ws.work, "bb.tar.gz"))} && kiln --root ${sh(path.join(small(), "store"))} import ${sh(path.join(ws.work, "bb.tar.gz"))} bb:1`);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/no space left on the device holding the store: free space, or run `kiln cache prune` and `kiln image prune`/);
    const locked = path.join(ws.work, "locked");
    await mkdir(locked);
    await chmod(locked, 0o700);
    // kilntest (with subordinate ids, made by KILN_SETUP_TESTS=1 scripts/setup.sh) runs kiln rootless, in a user namespace.
    const r = shell(`runuser -u kilntest -- node "$KILN_BIN" --root ${sh(path.join(locked, "store"))} images`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EACCES: permission denied.* — kiln runs without root here \(as uid \d+, in a user namespace\): the store .* must be yours/);
  });

  it("kiln image prune asks first, as docker; 'y' on stdin or -f goes ahead", () => {
    const no = shell(`echo n | kiln --root ${sh(ws.root)} image prune`);
    expect(no.stdout).toMatch(/WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\]/);
    expect(no.stderr).toMatch(/cancelled: nothing removed/);
    expect(no.stdout).not.toMatch(/Total reclaimed space/);
    const yes = shell(`echo y | kiln --root ${sh(ws.root)} image prune`);
    expect(yes.stdout).toMatch(/Total reclaimed space/);
    expect(shell(`kiln --root ${sh(ws.root)} image prune -f < /dev/null`).stdout).toMatch(/^Total reclaimed space/);
  });
});
