// After a crash or a kill -9, a build leaves mounts under tmp/, half-made
// snapshots (snapshots/.new-PID-*) and temp files. None is referenced by a
// ref (refs are written last), so the store stays consistent; this sweeps
// what dead processes left, leaving live builds' files alone. Every such
// name carries the creating process's pid.
import { spawn } from "node:child_process";
import { readFile, readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import type { StorePaths } from "./root.js";

const PID_IN_NAME = /^\.?[a-z-]*?[.-](\d+)[.-]/i;

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
  const m = PID_IN_NAME.exec(name);
  return m !== null && !alive(Number(m[1]));
}

async function mountPointsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
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
  for (const m of await mountPointsUnder(paths.tmp)) {
    const top = path.relative(paths.tmp, m).split("/")[0]!;
    if (deadOwner(top)) await umount(m);
  }
  if ((await mountPointsUnder(paths.tmp)).some((m) => deadOwner(path.relative(paths.tmp, m).split("/")[0]!))) return removed;
  const sweep = async (dir: string, only?: RegExp) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (only && !only.test(name)) continue;
      if (!deadOwner(name)) continue;
      const p = path.join(dir, name);
      await rmdir(p).catch(() => rm(p, { recursive: true, force: true }));
      removed.push(p);
    }
  };
  await sweep(paths.tmp);
  await sweep(paths.snapshots, /^\.new-/);
  await sweep(path.join(paths.blobs, "sha256"), /^\.tmp-/);
  return removed;
}
