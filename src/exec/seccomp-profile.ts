// Docker's default seccomp profile (vendored as data in seccomp/default.json,
// with its license) turned into the runtime-spec `linux.seccomp` section the
// way moby's seccomp.GetDefaultProfile does it: the architectures of the
// archMap entry for the machine's arch, and only the syscall rules whose
// arch, capability and kernel conditions hold for this container.
//
// The arch is always the host's, also for a foreign --platform: under
// qemu-user the kernel sees qemu's syscalls, made in the host's ABI (qemu
// translates the guest's), so a filter for the guest's arch would be
// checking numbers no process ever makes.
import { release } from "node:os";
import profile from "./seccomp/default.json" with { type: "json" };

/** The profile file's own shape (moby's `Seccomp` type), as far as kiln reads it. */
interface ProfileRule {
  readonly names: readonly string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly { readonly index: number; readonly value: number; readonly valueTwo?: number; readonly op: string }[];
  readonly includes?: Condition;
  readonly excludes?: Condition;
}
interface Condition {
  readonly arches?: readonly string[];
  readonly caps?: readonly string[];
  readonly minKernel?: string;
}
interface Profile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly archMap: readonly { readonly architecture: string; readonly subArchitectures: readonly string[] | null }[];
  readonly syscalls: readonly ProfileRule[];
}

/** The runtime-spec form (config.json `linux.seccomp`). */
export interface SpecSeccomp {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly {
    readonly names: readonly string[];
    readonly action: string;
    readonly errnoRet?: number;
    readonly args?: readonly { readonly index: number; readonly value: number; readonly valueTwo: number; readonly op: string }[];
  }[];
}

// OCI/Go arch names -> the profile's arch names (moby's goToNative) and
// libseccomp's (nativeToSeccomp).
const NATIVE: Record<string, string> = { "386": "x86", amd64: "amd64", arm: "arm", arm64: "arm64", ppc64le: "ppc64le", s390x: "s390x", riscv64: "riscv64", mips64: "mips64", mips64le: "mipsel64" };
const SCMP: Record<string, string> = {
  x86: "SCMP_ARCH_X86", amd64: "SCMP_ARCH_X86_64", arm: "SCMP_ARCH_ARM", arm64: "SCMP_ARCH_AARCH64", ppc64le: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X", riscv64: "SCMP_ARCH_RISCV64", mips64: "SCMP_ARCH_MIPS64", mipsel64: "SCMP_ARCH_MIPSEL64",
};

export interface SeccompTarget {
  /** The host's architecture as OCI names it (amd64, arm64, …). */
  readonly arch: string;
  /** The container's bounding capability set (CAP_…): rules are conditional on it. */
  readonly capabilities: readonly string[];
  /** The running kernel's release (default: os.release()). */
  readonly kernel?: string;
}

/** Docker's default profile for a container with these capabilities on this arch. */
export function defaultSeccomp(target: SeccompTarget): SpecSeccomp {
  return seccompFor(profile as Profile, target);
}

export function seccompFor(p: Profile, target: SeccompTarget): SpecSeccomp {
  const arch = NATIVE[target.arch] ?? target.arch;
  const entry = p.archMap.find((a) => a.architecture === SCMP[arch]);
  const kernel = target.kernel ?? release();
  const caps = new Set(target.capabilities);
  const applies = (r: ProfileRule): boolean => {
    const ex = r.excludes ?? {};
    const inc = r.includes ?? {};
    if (ex.arches?.includes(arch)) return false;
    if (ex.caps?.some((c) => caps.has(c))) return false;
    if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) return false;
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.some((c) => !caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
    return true;
  };
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [],
    syscalls: p.syscalls.filter(applies).map((r) => ({
      names: [...r.names],
      action: r.action,
      // clone3's ENOSYS (not EPERM) is what makes glibc fall back to clone.
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    })),
  };
}

/** Whether kernel release `have` (e.g. "6.1.0-18-amd64") is at least `want` ("4.8"). */
export function kernelAtLeast(have: string, want: string): boolean {
  const nums = (v: string) => (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v) ?? []).slice(1, 4).map((n) => Number(n ?? 0));
  const [a, b] = [nums(have), nums(want)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}
