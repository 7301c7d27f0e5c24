// What the multi-platform tests need from the machine, checked loudly: a
// missing prerequisite fails the test with the fix, never skips it.
// `scripts/setup.sh` (run by `npm test`) sets all of it up.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { emulationStatus } from "../../src/exec/emulation.js";
import { kiln, REPO } from "../helpers/kiln.js";

export const ARM64_BUSYBOX = "/var/cache/kiln/busybox-arm64/bin/busybox";
export const ARM64 = { os: "linux", architecture: "arm64" } as const;
export const AMD64 = { os: "linux", architecture: "amd64" } as const;

/** Throws (failing the suite) unless qemu-aarch64 is registered with F and the arm64 busybox is there. */
export async function requireArm64Emulation(): Promise<void> {
  const s = await emulationStatus(ARM64, { host: AMD64 });
  if (!s.ok) {
    throw new Error(
      `multi-platform tests need qemu-aarch64 in binfmt_misc with the F flag: ${s.problem}. ` +
        "Run scripts/setup.sh as root (it does: apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64).",
    );
  }
  if (!existsSync(ARM64_BUSYBOX)) {
    throw new Error(
      `multi-platform tests need an arm64 busybox at ${ARM64_BUSYBOX}. Run scripts/setup.sh as root (it does: dpkg --add-architecture arm64; apt-get update; apt-get download busybox-static:arm64; dpkg-deb -x busybox-static_*_arm64.deb /var/cache/kiln/busybox-arm64).`,
    );
  }
}

/** Rootfs tarballs of the host's busybox and the arm64 one, in a fresh temp dir. */
export async function busyboxTarballs(): Promise<{ dir: string; amd64: string; arm64: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "kiln-bb-"));
  const amd64 = path.join(dir, "bb-amd64.tar.gz");
  const arm64 = path.join(dir, "bb-arm64.tar.gz");
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), amd64]);
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), arm64, ARM64_BUSYBOX]);
  return { dir, amd64, arm64 };
}

export interface Arm64Busybox {
  /** The host's busybox as a rootfs tarball. */
  readonly amd64: string;
  /** The arm64 busybox as a rootfs tarball. */
  readonly arm64: string;
}

/**
 * For a describe block that needs arm64, registered as its beforeAll and
 * afterAll: fails loudly unless emulation is set up, makes both busybox
 * tarballs (removed after the block) and, with `importInto`, imports them
 * into that store as busybox:latest, an index of linux/amd64 and linux/arm64.
 */
export function useArm64Busybox(opts: { importInto?: { readonly root: string } } = {}): Arm64Busybox {
  let bb: Awaited<ReturnType<typeof busyboxTarballs>> | undefined;
  beforeAll(async () => {
    await requireArm64Emulation();
    bb = await busyboxTarballs();
    if (!opts.importInto) return;
    for (const [plat, file] of [["linux/amd64", bb.amd64], ["linux/arm64", bb.arm64]] as const) {
      const r = await kiln(["--root", opts.importInto.root, "import", "--platform", plat, file, "busybox:latest"]);
      if (r.code !== 0) throw new Error(`import ${plat}: ${r.stderr}`);
    }
  });
  afterAll(async () => {
    if (bb) await rm(bb.dir, { recursive: true, force: true });
  });
  const made = (): Awaited<ReturnType<typeof busyboxTarballs>> => {
    if (!bb) throw new Error("busybox tarballs read before their beforeAll ran");
    return bb;
  };
  return {
    get amd64() {
      return made().amd64;
    },
    get arm64() {
      return made().arm64;
    },
  };
}
