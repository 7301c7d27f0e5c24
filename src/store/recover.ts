// After a crash or a kill -9, a build leaves mounts under tmp/, half-made
// snapshots (snapshots/.new-PID-*) and temp files. None is referenced by a
// ref (refs are written last), so the store stays consistent; this sweeps
// what dead processes left, leaving live builds' files alone. Every such
// name carries the creating process's pid.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import type { StorePaths } from "./root.js";

const PID_IN_NAME = /^\.?[a-z-]*?[.-](\d+)[.-]/i;
// tempPath()'s form, "<hint>.<pid>.<12 hex>", where the hint may hold dots
// ("index.json", "<hex>.json"), which PID_IN_NAME does not reach past: a
// writeFileDurable killed between its write and its rename left such files
// in tmp/ for good.
const PID_IN_TEMP = /\.(\d+)\.[0-9a-f]{12}$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function deadOwner(name: string): boolean {
  const m = PID_IN_NAME.exec(name) ?? PID_IN_TEMP.exec(name);
  return m !== null && !alive(Number(m[1]));
}

// Every kiln command reads it once: a procfs read, synchronous.
async function mountPointsUnder(dir: string): Promise<string[]> {
  let info = "";
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    // no procfs: nothing to unmount
  }
  return info
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .map((p) => p.replace(/\\040/g, " "))
    .filter((p) => p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function umount(target: string): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn("umount", ["-l", target], { stdio: "ignore" });
    c.on("close", () => resolve());
    c.on("error", () => resolve());
  });
}

export async function recoverInterrupted(paths: StorePaths): Promise<string[]> {
  const removed: string[] = [];
  // Mounts first: never recurse into a mounted overlay (that would write whiteouts).
  // mountinfo is read again only if a mount was taken down (almost never).
  let unmounted = false;
  for (const m of await mountPointsUnder(paths.tmp)) {
    const top = path.relative(paths.tmp, m).split("/")[0]!;
    if (deadOwner(top)) {
      await umount(m);
      unmounted = true;
    }
  }
  if (unmounted && (await mountPointsUnder(paths.tmp)).some((m) => deadOwner(path.relative(paths.tmp, m).split("/")[0]!))) return removed;
  const sweep = async (dir: string, only?: RegExp) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (only && !only.test(name)) continue;
      if (!deadOwner(name)) continue;
      const p = path.join(dir, name);
      await rmdir(p).catch(() => rm(p, { recursive: true, force: true }));
      removed.push(p);
    }
  };
  // Three unrelated folders: listed at the same time (every kiln command runs this).
  await Promise.all([sweep(paths.tmp), sweep(paths.snapshots, /^\.new-/), sweep(path.join(paths.blobs, "sha256"), /^\.tmp-/)]);
  return removed;
}
