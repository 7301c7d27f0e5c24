// Foreign-platform RUN steps run their binaries under qemu-user through the
// kernel's binfmt_misc. The handler must be registered with the fix-binary
// (F) flag: the kernel then opens the interpreter at registration time, so it
// works inside a container's root filesystem, where /usr/bin/qemu-* is absent.
// ensureEmulation checks that before a foreign step runs, and otherwise says
// exactly what is missing and how to fix it.
import { readFile } from "node:fs/promises";
import { formatPlatform, hostPlatform, normalizePlatform, type Platform } from "../oci/platform.js";
import { KilnError } from "../util/errors.js";

/** OCI architecture (+variant) -> the name of qemu's binfmt_misc entry. */
const QEMU_ARCH: Record<string, string> = {
  arm64: "aarch64",
  arm: "arm",
  amd64: "x86_64",
  "386": "i386",
  ppc64le: "ppc64le",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  mips64le: "mips64el",
  mips64: "mips64",
  mipsle: "mipsel",
  mips: "mips",
  loong64: "loongarch64",
};

export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

export function qemuArch(p: Platform): string | undefined {
  return QEMU_ARCH[normalizePlatform(p).architecture];
}

/** True when `p` runs natively here (no emulator needed). 32-bit x86 and arm
 * on their 64-bit hosts count as native, as docker does. */
export function isNative(p: Platform, host: Platform = hostPlatform()): boolean {
  const a = normalizePlatform(p);
  const h = normalizePlatform(host);
  if (a.os !== h.os) return false;
  if (a.architecture === h.architecture) return true;
  return (h.architecture === "amd64" && a.architecture === "386") || (h.architecture === "arm64" && a.architecture === "arm" && (a.variant ?? "v7") !== "v5");
}

export interface EmulationStatus {
  readonly ok: boolean;
  readonly native: boolean;
  /** The binfmt_misc entry consulted, e.g. /proc/sys/fs/binfmt_misc/qemu-aarch64. */
  readonly entry?: string;
  /** Why it is not usable. */
  readonly problem?: string;
}

export async function emulationStatus(p: Platform, opts: { binfmtDir?: string; host?: Platform } = {}): Promise<EmulationStatus> {
  if (isNative(p, opts.host)) return { ok: true, native: true };
  const dir = opts.binfmtDir ?? BINFMT_DIR;
  const plat = normalizePlatform(p);
  if (plat.os !== "linux") return { ok: false, native: false, problem: `kiln runs only linux images; ${formatPlatform(plat)} cannot run here` };
  const q = qemuArch(plat);
  if (!q) return { ok: false, native: false, problem: `no qemu emulator is known for architecture ${plat.architecture}` };
  const entry = `${dir}/qemu-${q}`;
  let status: string;
  try {
    status = await readFile(`${dir}/status`, "utf8");
  } catch {
    return { ok: false, native: false, entry, problem: `binfmt_misc is not mounted at ${dir}` };
  }
  if (status.trim() !== "enabled") return { ok: false, native: false, entry, problem: `binfmt_misc is disabled (${dir}/status)` };
  let text: string;
  try {
    text = await readFile(entry, "utf8");
  } catch {
    return { ok: false, native: false, entry, problem: `no binfmt_misc handler is registered for ${q} (${entry} does not exist)` };
  }
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "enabled") return { ok: false, native: false, entry, problem: `the binfmt_misc handler ${entry} is disabled` };
  const flags = lines.find((l) => l.startsWith("flags:"))?.slice(6).trim() ?? "";
  if (!flags.includes("F")) {
    return { ok: false, native: false, entry, problem: `the binfmt_misc handler ${entry} lacks the fix-binary (F) flag, so qemu cannot be found inside a container (flags: ${flags || "none"})` };
  }
  return { ok: true, native: false, entry };
}

/**
 * Resolve when RUN steps for `p` can run on this machine: natively, or under
 * qemu-user registered in binfmt_misc with the F flag. Otherwise an
 * EMULATOR_MISSING error naming the platform and the fix.
 */
export async function ensureEmulation(p: Platform, opts: { binfmtDir?: string; host?: Platform } = {}): Promise<void> {
  const s = await emulationStatus(p, opts);
  if (s.ok) return;
  const plat = formatPlatform(normalizePlatform(p));
  const q = qemuArch(p);
  const dir = opts.binfmtDir ?? BINFMT_DIR;
  const fix = q
    ? [
        "apt-get install qemu-user-static binfmt-support",
        `mount -t binfmt_misc binfmt_misc ${dir}  (if not mounted)`,
        `update-binfmts --enable qemu-${q}  (Debian's qemu-user-static registers with the F flag)`,
      ].join("; ")
    : "build this platform on a native machine";
  throw new KilnError("EMULATOR_MISSING", `cannot run RUN steps for ${plat} on this ${formatPlatform(opts.host ?? hostPlatform())} machine: ${s.problem}`, {
    hint: `to emulate ${plat} with qemu: ${fix}`,
  });
}

/** Memoised per build: check each platform once, whatever the number of steps. */
export function emulationChecker(opts: { binfmtDir?: string; host?: Platform } = {}): (p: Platform) => Promise<void> {
  const seen = new Map<string, Promise<void>>();
  return (p) => {
    const key = formatPlatform(normalizePlatform(p));
    let r = seen.get(key);
    if (!r) {
      r = ensureEmulation(p, opts);
      seen.set(key, r);
      r.catch(() => seen.delete(key));
    }
    return r;
  };
}
