// Docker's default seccomp profile in runtime-spec form: the rules moby's
// GetDefaultProfile keeps for an arch, a capability set and a kernel.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CAPS } from "../../src/exec/sandbox.js";
import { defaultSeccomp, kernelAtLeast, type SpecSeccomp } from "../../src/exec/seccomp-profile.js";
import { REPO } from "../helpers/kiln.js";

/** Syscalls allowed outright (no argument conditions). */
const allowed = (s: SpecSeccomp) => new Set(s.syscalls.filter((r) => r.action === "SCMP_ACT_ALLOW" && !r.args).flatMap((r) => r.names));
const rulesFor = (s: SpecSeccomp, name: string) => s.syscalls.filter((r) => r.names.includes(name));

describe("Docker's default seccomp profile", () => {
  it("is moby's profiles/seccomp/default.json unchanged, with its license beside it", () => {
    const dir = path.join(REPO, "src/exec/seccomp");
    expect(createHash("sha256").update(readFileSync(path.join(dir, "default.json"))).digest("hex")).toBe("691370acc2e46f4b0e02a0f8ccce1b01be0068740c41ceaaccadeca42b0cf89b");
    expect(readFileSync(path.join(dir, "LICENSE"), "utf8")).toContain("Apache License");
    expect(readFileSync(path.join(dir, "NOTICE"), "utf8")).toContain("moby/moby");
  });

  it("amd64 with Docker's capabilities: x86 arches, EPERM by default, no mount/unshare, clone without namespace flags, clone3 ENOSYS", () => {
    const s = defaultSeccomp({ arch: "amd64", capabilities: DEFAULT_CAPS, kernel: "6.1.0-18-amd64" });
    expect(s.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(s.defaultErrnoRet).toBe(1);
    expect(s.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    const ok = allowed(s);
    for (const n of ["read", "chown", "setuid", "mknod", "chroot", "arch_prctl", "modify_ldt", "ptrace"]) expect(ok, n).toContain(n);
    for (const n of ["mount", "umount2", "unshare", "setns", "bpf", "kexec_load", "init_module", "reboot", "set_tls", "s390_runtime_instr"]) expect(ok, n).not.toContain(n);
    expect(rulesFor(s, "clone")).toEqual([{ names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] }]);
    expect(rulesFor(s, "clone3")).toEqual([{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }]);
    expect(rulesFor(s, "socket")[0]?.args).toEqual([{ index: 0, value: 40, valueTwo: 0, op: "SCMP_CMP_NE" }]);
  });

  it("arm64 takes the arm rules and not the x86 ones", () => {
    const s = defaultSeccomp({ arch: "arm64", capabilities: DEFAULT_CAPS, kernel: "6.1" });
    expect(s.architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
    const ok = allowed(s);
    expect(ok).toContain("set_tls");
    expect(ok).not.toContain("arch_prctl");
  });

  it("capability-conditional rules follow the bounding set, kernel-conditional ones the kernel", () => {
    const admin = defaultSeccomp({ arch: "amd64", capabilities: [...DEFAULT_CAPS, "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"], kernel: "6.1" });
    expect(allowed(admin)).toContain("mount");
    expect(allowed(admin)).toContain("unshare");
    expect(allowed(admin)).toContain("clone3");
    expect(admin.syscalls.some((r) => r.names.includes("clone3") && r.action === "SCMP_ACT_ERRNO")).toBe(false);
    expect(admin.syscalls.some((r) => r.names.includes("clone") && r.args)).toBe(false);
    const old = defaultSeccomp({ arch: "amd64", capabilities: DEFAULT_CAPS, kernel: "4.4.0" });
    expect(allowed(old)).not.toContain("ptrace");
  });

  it("compares kernel releases by number", () => {
    expect(kernelAtLeast("6.18.44-fc-v1272", "4.8")).toBe(true);
    expect(kernelAtLeast("4.10.0", "4.8")).toBe(true);
    expect(kernelAtLeast("4.8", "4.8")).toBe(true);
    expect(kernelAtLeast("4.7.10", "4.8")).toBe(false);
    expect(kernelAtLeast("3.19", "4.8")).toBe(false);
  });
});
