// What a runtime spec needs when kiln runs in a user namespace (rootless):
// runc runs there as the namespace's root and makes the container's own
// namespaces, but some things stay the initial namespace's.
// - sysfs can only be mounted by the owner of the network namespace: with
//   the host's network (the default) /sys is bound read-only from the host
//   instead, as `runc spec --rootless` does; with `none` the container has
//   its own netns and gets a fresh sysfs.
// - device cgroup rules cannot be written without root (runc's rootless
//   cgroup manager skips cgroups it cannot create, but not explicit rules),
//   and every device is already the host's own, bound in by runc;
// - nor can a pids limit be set (no cgroup of our own): a clear error.
import { KilnError } from "../util/errors.js";
import { inUserNamespace } from "./namespace.js";

interface Mount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

interface Spec {
  mounts?: Mount[];
  linux?: { namespaces?: { type: string }[]; resources?: { devices?: unknown; pids?: unknown } };
}

export function adjustForUserNamespace<T extends object>(spec: T, rootless = inUserNamespace()): T {
  if (!rootless) return spec;
  const s = structuredClone(spec) as T & Spec;
  const ownNetns = s.linux?.namespaces?.some((n) => n.type === "network") ?? false;
  if (!ownNetns && s.mounts) {
    s.mounts = s.mounts.map((m) =>
      m.type === "sysfs" ? { destination: m.destination, type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] } : m,
    );
  }
  if (s.linux?.resources?.pids) {
    // runc's rootless cgroup manager can only apply limits in a cgroup
    // delegated to the user (cgroup v2 + systemd); refused here rather than
    // as runc's "container could not join or create cgroup".
    throw new KilnError("ROOTLESS_NO_CGROUPS", "--pids-limit needs a cgroup kiln cannot create without root", {
      hint: "build without --pids-limit, or as root",
    });
  }
  if (s.linux?.resources?.devices) {
    delete s.linux.resources.devices;
    if (Object.keys(s.linux.resources).length === 0) delete s.linux.resources;
  }
  return s;
}
