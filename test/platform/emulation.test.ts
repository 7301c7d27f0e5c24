// ensureEmulation: native platforms need nothing; a foreign one needs qemu in
// binfmt_misc with the fix-binary flag; otherwise the error names the
// platform and the fix. And a build for such a platform stops at its first
// RUN with that error.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/build/build.js";
import { BINFMT_DIR, emulationStatus, ensureEmulation, isNative } from "../../src/exec/emulation.js";
import { parsePlatform } from "../../src/oci/platform.js";
import { Store } from "../../src/store/store.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { AMD64, ARM64, requireArm64Emulation, useArm64Busybox } from "./prerequisites.js";

/**
 * A platform with no enabled emulator. Debian's qemu-user-static registers
 * every qemu it ships, so the test switches s390x's entry off for its run (as
 * `update-binfmts --disable qemu-s390x` would) and back on afterwards; no
 * other test builds for s390x.
 */
async function withoutEmulator(run: (platform: string, qemu: string) => Promise<void>): Promise<void> {
  const [platform, qemu] = ["linux/s390x", "s390x"];
  const entry = `${BINFMT_DIR}/qemu-${qemu}`;
  const wasEnabled = existsSync(entry) && (await readFile(entry, "utf8")).startsWith("enabled");
  if (wasEnabled) await writeFile(entry, "0");
  try {
    await run(platform, qemu);
  } finally {
    if (wasEnabled) await writeFile(entry, "1");
  }
}

describe("emulation checks", () => {
  let fake: string;
  beforeAll(async () => {
    await requireArm64Emulation();
    fake = await mkdtemp(path.join(tmpdir(), "kiln-binfmt-"));
  });
  afterAll(async () => {
    await rm(fake, { recursive: true, force: true });
  });

  it("host-native platforms need no emulator", async () => {
    expect(isNative(AMD64, AMD64)).toBe(true);
    expect(isNative(parsePlatform("linux/386"), AMD64)).toBe(true);
    expect(isNative(ARM64, AMD64)).toBe(false);
    await expect(ensureEmulation(AMD64, { host: AMD64, binfmtDir: "/nonexistent" })).resolves.toBeUndefined();
  });

  it("linux/arm64 is usable here: qemu-aarch64 registered with the F flag", async () => {
    expect(await emulationStatus(ARM64, { host: AMD64 })).toMatchObject({ ok: true, native: false, entry: `${BINFMT_DIR}/qemu-aarch64` });
  });

  it("a platform with no registered emulator fails with its name and the fix", () =>
    withoutEmulator(async (platform, qemu) => {
      const err = await ensureEmulation(parsePlatform(platform), { host: AMD64 }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; hint: string },
      );
      expect(err?.code).toBe("EMULATOR_MISSING");
      expect(err?.message).toContain(platform);
      expect(err?.message).toContain(`qemu-${qemu}`);
      expect(err?.hint).toContain("apt-get install qemu-user-static binfmt-support");
      expect(err?.hint).toContain(`update-binfmts --enable qemu-${qemu}`);
      expect(err?.hint).toContain("mount -t binfmt_misc");
  }));

  it("says when binfmt_misc is not mounted, and when the handler lacks the fix-binary flag", async () => {
    await expect(ensureEmulation(ARM64, { host: AMD64, binfmtDir: path.join(fake, "absent") })).rejects.toThrow(/binfmt_misc is not mounted/);
    await writeFile(path.join(fake, "status"), "enabled\n");
    await writeFile(path.join(fake, "qemu-aarch64"), "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: P\noffset 0\n");
    await expect(ensureEmulation(ARM64, { host: AMD64, binfmtDir: fake })).rejects.toThrow(/linux\/arm64.*fix-binary \(F\) flag/);
    await writeFile(path.join(fake, "qemu-aarch64"), "disabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n");
    await expect(ensureEmulation(ARM64, { host: AMD64, binfmtDir: fake })).rejects.toThrow(/disabled/);
    await writeFile(path.join(fake, "qemu-aarch64"), "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: PF\n");
    await expect(ensureEmulation(ARM64, { host: AMD64, binfmtDir: fake })).resolves.toBeUndefined();
  });
});

describe("a build for a platform without an emulator", () => {
  const ws = useWorkspace({ name: "emu", context: { Dockerfile: "FROM busybox:latest\nRUN echo ran > /ran\n" } });
  const bb = useArm64Busybox();

  it("stops at its first RUN with the clear error (checked before running, even if the binary would run)", () =>
    withoutEmulator(async (platform, qemu) => {
      // The host's busybox labelled as the foreign platform: without the check
      // the RUN would just run natively, so only the check can stop it.
      const r = await kiln(["--root", ws.root, "import", "--platform", platform, bb.amd64, "busybox:latest"]);
      expect(r.code).toBe(0);
      const store = await Store.open(ws.root);
      await expect(build({ store, contextDir: ws.ctx, platforms: [parsePlatform(platform)], tags: ["emu:1"] })).rejects.toMatchObject({
        code: "EMULATOR_MISSING",
        message: expect.stringContaining(platform),
        hint: expect.stringContaining(`update-binfmts --enable qemu-${qemu}`),
      });
  }));
});
