// The runtime-spec config.json for one RUN step. Pure: the caller writes it
// into a bundle. Mirrors what docker/BuildKit give a build container: default
// capabilities, masked /proc paths, private /dev, and read-only host files
// for name resolution; Docker's seccomp profile; and the step's limits.
import { hostPlatform } from "../oci/platform.js";
import { insecureCapabilities, DEFAULT_CAPS, DEFAULT_CONFINEMENT, DEFAULT_SHM_BYTES, ULIMIT_NAMES, type Confinement, type ProcessLimits } from "./sandbox.js";
import { defaultSeccomp } from "./seccomp-profile.js";
import type { ResolvedUser } from "./user.js";

/** slirp4netns: an own netns with outbound access through slirp4netns (slirp4netns.ts). */
export type NetworkMode = "none" | "host" | "slirp4netns";

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
  /** Default: Docker's capabilities and seccomp profile. */
  readonly confinement?: Confinement;
  readonly limits?: ProcessLimits;
  /** runtime-spec hooks (slirp4netns' start). */
  readonly hooks?: object;
}

/**
 * An rlimit of -1 (unlimited) is 2^64-1 in config.json, which a JS number
 * cannot hold: it is written as this string and replaced in specJson.
 */
const RLIM_INFINITY = "kiln:rlim-infinity";

/** Paths where the runtime mounts something; used to find stubs it created. */
export function mountDestinations(input: Pick<SpecInput, "network">): string[] {
  return ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts", "/etc/resolv.conf"];
}

/** The spec as config.json text. */
export function specJson(spec: object): string {
  return JSON.stringify(spec).replaceAll(`"${RLIM_INFINITY}"`, "18446744073709551615");
}

export function runtimeSpec(input: SpecInput): object {
  const confinement = input.confinement ?? DEFAULT_CONFINEMENT;
  const insecure = confinement.mode === "insecure";
  const caps = insecure ? insecureCapabilities() : DEFAULT_CAPS;
  const limits = input.limits ?? {};
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (input.network !== "host") namespaces.push({ type: "network" });
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
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(limits.ulimits?.length
        ? { rlimits: limits.ulimits.map((u) => ({ type: ULIMIT_NAMES[u.name], soft: rlimit(u.soft), hard: rlimit(u.hard) })) }
        : {}),
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    ...(input.hooks ? { hooks: input.hooks } : {}),
    mounts: [
      // On the host every snapshot view is nosuid,nodev (overlay.ts), but a
      // step expects what Docker gives it: setuid (`USER app` + `RUN sudo`)
      // and the image's own device nodes. The runtime binds the rootfs onto
      // itself in the container's mount namespace; this entry, first so the
      // others land on top of it, binds it once more and remounts that bind
      // without nosuid/nodev ("relatime" is a flag, so runc does remount;
      // "suid"/"dev" alone clear nothing and it would skip the remount).
      // The host never sees this mount, and no extra process runs per RUN.
      { destination: "/", type: "bind", source: input.rootfs, options: ["rbind", "suid", "dev", "exec", "rw", "relatime"] },
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${limits.shmSizeBytes ?? DEFAULT_SHM_BYTES}`] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", insecure ? "rw" : "ro"] },
      { destination: "/etc/hosts", type: "bind", source: input.hostsFile, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] },
      { destination: "/etc/resolv.conf", type: "bind", source: input.resolvConf, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] },
      ...(input.extraMounts ?? []).map(specMount),
    ],
    linux: {
      namespaces,
      // The insecure mode is BuildKit's: nothing masked, every device allowed.
      maskedPaths: insecure
        ? []
        : [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
          ],
      readonlyPaths: insecure ? [] : ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
      ...(insecure || limits.pidsLimit !== undefined
        ? {
            resources: {
              ...(insecure ? { devices: [{ allow: true, access: "rwm" }] } : {}),
              ...(limits.pidsLimit !== undefined ? { pids: { limit: limits.pidsLimit } } : {}),
            },
          }
        : {}),
      // The filter is for the host's arch also under qemu-user (seccomp-profile.ts says why).
      ...(!insecure && confinement.seccomp ? { seccomp: defaultSeccomp({ arch: hostPlatform().architecture, capabilities: caps }) } : {}),
    },
  };
}

function rlimit(n: number): number | string {
  return n < 0 ? RLIM_INFINITY : n;
}

function specMount(m: ExtraMount): object {
  if (m.kind === "tmpfs") {
    return { destination: m.destination, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", ...(m.sizeBytes !== undefined ? [`size=${m.sizeBytes}`] : [])] };
  }
  return { destination: m.destination, type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw"] };
}
