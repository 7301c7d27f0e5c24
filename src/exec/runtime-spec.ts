// The runtime-spec config.json for one RUN step. Pure: the caller writes it
// into a bundle. Mirrors what docker/BuildKit give a build container: default
// capabilities, masked /proc paths, private /dev, and read-only host files
// for name resolution.
import type { ResolvedUser } from "./user.js";

export type NetworkMode = "none" | "host";

/**
 * What RUN gets when nobody asked (`--network=default`): outbound access, as
 * `docker build` gives. The host's network namespace, with kiln's own
 * /etc/hosts and the host's /etc/resolv.conf bound read-only (BuildKit's OCI
 * worker default). Measured against a separate netns with slirp4netns: a RUN
 * fetching from a loopback HTTP server took +150 ms per RUN for slirp4netns
 * to start and half the throughput, and the host's 127.0.0.1 (a local
 * registry or proxy) is not reachable from a separate netns.
 */
export const DEFAULT_NETWORK: NetworkMode = "host";

/** One `--add-host NAME:IP` line of RUN's /etc/hosts. */
export interface ExtraHost {
  readonly name: string;
  readonly ip: string;
}

/** RUN's /etc/hosts: localhost, the sandbox's hostname, then --add-host entries (docker's order). */
export function hostsFileText(hostname: string, extra: readonly ExtraHost[] = []): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra.map((h) => `${h.ip}\t${h.name}\n`).join("")}`;
}

export interface ProcessSpec {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: ResolvedUser;
}

/** A mount a RUN step asked for (--mount, heredoc scripts), after the builder resolved its source on the host. */
export type ExtraMount =
  | { readonly kind: "bind"; readonly source: string; readonly destination: string; readonly readonly: boolean; readonly file: boolean }
  | { readonly kind: "tmpfs"; readonly destination: string; readonly sizeBytes?: number };

export interface SpecInput {
  readonly rootfs: string;
  readonly process: ProcessSpec;
  readonly network: NetworkMode;
  readonly hostname: string;
  /** Host files bind-mounted read-only at the same path in the container. */
  readonly hostsFile: string;
  readonly resolvConf: string;
  /** Added after the defaults, so they may sit inside /dev or over image paths. */
  readonly extraMounts?: readonly ExtraMount[];
}

// Docker's default capability set for containers.
const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** Paths where the runtime mounts something; used to find stubs it created. */
export function mountDestinations(input: Pick<SpecInput, "network">): string[] {
  return ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts", "/etc/resolv.conf"];
}

export function runtimeSpec(input: SpecInput): object {
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (input.network === "none") namespaces.push({ type: "network" });
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: {
        uid: input.process.user.uid,
        gid: input.process.user.gid,
        ...(input.process.user.additionalGids.length ? { additionalGids: [...input.process.user.additionalGids] } : {}),
      },
      args: [...input.process.args],
      env: [...input.process.env],
      cwd: input.process.cwd,
      capabilities: {
        bounding: DEFAULT_CAPS,
        effective: DEFAULT_CAPS,
        permitted: DEFAULT_CAPS,
      },
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/etc/hosts", type: "bind", source: input.hostsFile, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] },
      { destination: "/etc/resolv.conf", type: "bind", source: input.resolvConf, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] },
      ...(input.extraMounts ?? []).map(specMount),
    ],
    linux: {
      namespaces,
      maskedPaths: [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

function specMount(m: ExtraMount): object {
  if (m.kind === "tmpfs") {
    return { destination: m.destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", ...(m.sizeBytes !== undefined ? [`size=${m.sizeBytes}`] : [])] };
  }
  return { destination: m.destination, type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw"] };
}
