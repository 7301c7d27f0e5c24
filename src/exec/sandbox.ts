// How a RUN container is confined, as values the runtime spec is made from:
// Docker's defaults (its capability set and seccomp profile) unless a step
// asked for `RUN --security=insecure` (granted with --allow
// security.insecure) or the build for `--security-opt seccomp=unconfined`;
// and the process limits of `--ulimit`, `--shm-size` and `--pids-limit`.
import { readFileSync } from "node:fs";

export interface Confinement {
  /** "sandbox": Docker's defaults. "insecure": every capability, no seccomp, no masked /proc paths, all devices (BuildKit's insecure mode). */
  readonly mode: "sandbox" | "insecure";
  /** false: no seccomp filter even in the sandbox (--security-opt seccomp=unconfined). */
  readonly seccomp: boolean;
}

export const DEFAULT_CONFINEMENT: Confinement = { mode: "sandbox", seccomp: true };

/** One `--ulimit name=soft[:hard]`; -1 is unlimited. */
export interface Ulimit {
  /** Docker's name: nofile, nproc, core, … (see ULIMIT_NAMES). */
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

export interface ProcessLimits {
  readonly ulimits?: readonly Ulimit[];
  /** Size of the /dev/shm tmpfs (default 64 MiB, as Docker's). */
  readonly shmSizeBytes?: number;
  /** Most processes (and threads) the step may have at once; absent: no limit, as Docker's default. */
  readonly pidsLimit?: number;
}

export const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

/** Docker's --ulimit names and the rlimit each sets. */
export const ULIMIT_NAMES: Readonly<Record<string, string>> = {
  as: "RLIMIT_AS", core: "RLIMIT_CORE", cpu: "RLIMIT_CPU", data: "RLIMIT_DATA", fsize: "RLIMIT_FSIZE",
  locks: "RLIMIT_LOCKS", memlock: "RLIMIT_MEMLOCK", msgqueue: "RLIMIT_MSGQUEUE", nice: "RLIMIT_NICE",
  nofile: "RLIMIT_NOFILE", nproc: "RLIMIT_NPROC", rss: "RLIMIT_RSS", rtprio: "RLIMIT_RTPRIO",
  rttime: "RLIMIT_RTTIME", sigpending: "RLIMIT_SIGPENDING", stack: "RLIMIT_STACK",
};

/** Docker's default capability set for containers (and BuildKit's for RUN). */
export const DEFAULT_CAPS: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** Every capability Linux defines, by number (0 … 40). */
export const ALL_CAPS: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

let own: readonly string[] | undefined;

/**
 * The insecure mode's set: every capability this process may pass on (its
 * bounding set). Asking the runtime for one it lacks (kiln itself in a
 * container without CAP_SYS_RESOURCE) fails the step with EPERM.
 */
export function insecureCapabilities(): readonly string[] {
  if (own) return own;
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  const mask = m ? BigInt(`0x${m[1]}`) : -1n;
  own = ALL_CAPS.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return own;
}

/** What a build asks of every RUN (BuildOptions.sandbox). */
export interface SandboxOptions {
  /** false: `--security-opt seccomp=unconfined`. Default: Docker's profile. */
  readonly seccomp?: boolean;
  /** `--allow security.insecure`: steps may ask for `RUN --security=insecure`. */
  readonly allowInsecure?: boolean;
  readonly limits?: ProcessLimits;
}
