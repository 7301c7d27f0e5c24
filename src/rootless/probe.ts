// What this machine offers kiln, found without changing anything: the
// facts `kiln info` prints. Each fact that is missing carries the fix.
// Probes that need a namespace (overlay in a user namespace) run in a
// throwaway `unshare` child and a temp dir that is removed afterwards.
import { execFile } from "node:child_process";
import { access, constants, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { readSubids, type IdRange } from "./subids.js";
import { findOnPath } from "../util/find-on-path.js";
import { ROOTLESS_ENV } from "./user-namespace.js";

const exec = promisify(execFile);

export interface Fact {
  readonly name: string;
  readonly value: string;
  readonly ok: boolean;
  /** What to do when !ok. */
  readonly fix?: string;
  /** A missing fact that stops builds (not only some of them). */
  readonly essential?: boolean;
}

async function version(bin: string | undefined): Promise<string | undefined> {
  if (!bin) return undefined;
  try {
    return (await exec(bin, ["--version"], { timeout: 5000 })).stdout.split("\n")[0]!.trim();
  } catch {
    return undefined;
  }
}

const readProc = (p: string) => readFile(p, "utf8").then((s) => s.trim(), () => undefined);
const ranges = (r: readonly IdRange[]) => r.map((x) => `${x.start}-${x.start + x.count - 1}`).join(", ");

/** Whether the kernel mounts overlayfs (userxattr) in a fresh user namespace, as kiln does without root. */
async function kernelOverlayInUserns(): Promise<string | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), "kiln-probe-"));
  try {
    await exec(
      "unshare",
      ["--user", "--map-root-user", "--mount", "sh", "-c", 'cd "$0" && mkdir l u w m && mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w,userxattr,redirect_dir=nofollow m', dir],
      { timeout: 10000 },
    );
    return undefined;
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err).trim().split("\n")[0];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function probe(opts: { storeRoot: string; env?: NodeJS.ProcessEnv }): Promise<Fact[]> {
  const env = opts.env ?? process.env;
  const u = userInfo();
  const inside = env[ROOTLESS_ENV];
  const root = u.uid === 0 && !inside;
  const sbinPath = `${env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;
  const facts: Fact[] = [];
  facts.push({ name: "user", value: `${u.username} (uid ${u.uid})`, ok: true });
  facts.push({ name: "mode", value: root ? "root" : "rootless: user namespace with subordinate ids (newuidmap)", ok: true });
  facts.push({ name: "store", value: opts.storeRoot, ok: true });

  const [runc, crun] = await Promise.all([findOnPath("runc", sbinPath), findOnPath("crun", sbinPath)]);
  const rv = await version(runc);
  facts.push({ name: "runtime", value: runc ? `${runc}${rv ? ` (${rv})` : ""}${crun ? `; crun: ${crun}` : ""}` : "runc not found", ok: !!runc, fix: "apt-get install runc", essential: true });

  if (!root) {
    const [newuidmap, newgidmap] = await Promise.all([findOnPath("newuidmap", sbinPath), findOnPath("newgidmap", sbinPath)]);
    facts.push({ name: "newuidmap", value: newuidmap && newgidmap ? `${newuidmap}, ${newgidmap}` : "not found", ok: !!(newuidmap && newgidmap), fix: "apt-get install uidmap", essential: true });
    const ids = await readSubids({ name: u.username, id: u.uid });
    const s = ids.suggestion;
    facts.push({
      name: "subids",
      value: `uids ${ranges(ids.uids) || "none"} (/etc/subuid); gids ${ranges(ids.gids) || "none"} (/etc/subgid)`,
      ok: ids.uids.length > 0 && ids.gids.length > 0,
      fix: `as root: add "${u.username}:${s.start}:${s.count}" to /etc/subuid and /etc/subgid (usermod --add-subuids ${s.start}-${s.start + s.count - 1} --add-subgids ${s.start}-${s.start + s.count - 1} ${u.username})`,
      essential: true,
    });
    const max = await readProc("/proc/sys/user/max_user_namespaces");
    const clone = await readProc("/proc/sys/kernel/unprivileged_userns_clone");
    const apparmor = await readProc("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    const usernsOk = max !== "0" && clone !== "0" && apparmor !== "1";
    facts.push({
      name: "user namespaces",
      value: `user.max_user_namespaces=${max ?? "?"}${clone !== undefined ? `, kernel.unprivileged_userns_clone=${clone}` : ""}${apparmor !== undefined ? `, kernel.apparmor_restrict_unprivileged_userns=${apparmor}` : ""}`,
      ok: usernsOk,
      fix: "as root: sysctl -w user.max_user_namespaces=28633 kernel.unprivileged_userns_clone=1 kernel.apparmor_restrict_unprivileged_userns=0 (whichever exist; README: Without root)",
      essential: true,
    });
    const forced = env.KILN_OVERLAY;
    const kernelRefusal = forced === "fuse-overlayfs" ? "not tried (KILN_OVERLAY=fuse-overlayfs)" : await kernelOverlayInUserns();
    const fuse = await findOnPath("fuse-overlayfs", sbinPath);
    const devFuse = await access("/dev/fuse", constants.R_OK | constants.W_OK).then(() => true, () => false);
    if (kernelRefusal === undefined) facts.push({ name: "overlay", value: "kernel overlayfs in the user namespace (userxattr)", ok: true });
    else
      facts.push({
        name: "overlay",
        value: fuse && devFuse ? `fuse-overlayfs (${fuse}); kernel: ${kernelRefusal}` : `none: kernel: ${kernelRefusal}; fuse-overlayfs ${fuse ? "found but /dev/fuse is not read-writable" : "not installed"}`,
        ok: !!(fuse && devFuse),
        fix: fuse ? "as root: chmod 0666 /dev/fuse (udev's default) and modprobe fuse" : "apt-get install fuse-overlayfs (or use Linux >= 5.11, where overlayfs mounts in a user namespace)",
        essential: true,
      });
  } else {
    const fs = (await readProc("/proc/filesystems")) ?? "";
    const overlay = /\boverlay\b/.test(fs);
    facts.push({ name: "overlay", value: overlay ? "kernel overlayfs" : "overlayfs not in /proc/filesystems", ok: overlay, fix: "modprobe overlay", essential: true });
  }

  const binfmt = "/proc/sys/fs/binfmt_misc";
  const entries = (await readdir(binfmt).catch(() => [] as string[])).filter((n) => n.startsWith("qemu-"));
  const usable: string[] = [];
  for (const e of entries) {
    const t = (await readProc(path.join(binfmt, e))) ?? "";
    if (/^enabled/m.test(t)) usable.push(/^flags:.*F/m.test(t) ? e.slice(5) : `${e.slice(5)} (no F flag: not usable in containers)`);
  }
  facts.push({
    name: "emulators",
    value: usable.length ? `qemu-user for ${usable.join(", ")}` : "none registered",
    ok: usable.some((e) => !e.includes("no F flag")),
    fix: "for foreign-platform RUN: apt-get install qemu-user-static binfmt-support (registers qemu-* with the F flag)",
  });
  const [pigz, zstd] = await Promise.all([findOnPath("pigz", sbinPath), findOnPath("zstd", sbinPath)]);
  facts.push({ name: "compression", value: `gzip: ${pigz ? `pigz (${pigz})` : "node:zlib (one core)"}; zstd: ${zstd ?? "not found"}`, ok: !!pigz && !!zstd, fix: `apt-get install ${[pigz ? "" : "pigz", zstd ? "" : "zstd"].filter(Boolean).join(" ")} (faster gzip on all cores; --compression zstd)` });
  const slirp = await findOnPath("slirp4netns", sbinPath);
  const tun = await access("/dev/net/tun", constants.R_OK | constants.W_OK).then(() => true, () => false);
  facts.push({
    name: "network",
    value: `RUN: host (default), none${slirp && tun ? `, slirp4netns (${slirp})` : ""}`,
    ok: !!slirp && tun,
    fix: slirp ? "for --network slirp4netns: as root, chmod 0666 /dev/net/tun (udev's default)" : "for --network slirp4netns: apt-get install slirp4netns",
  });
  return facts;
}
