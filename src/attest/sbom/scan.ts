// scanRootfs: OS package databases at their fixed paths, then every
// language lockfile and Go binary the walk finds. Unreadable or malformed
// lockfiles and binaries are skipped: a broken file a project never used
// must not fail the build.
import path from "node:path";
import { Semaphore } from "../../util/semaphore.js";
import { scanApk } from "./apk.js";
import { scanDpkg } from "./dpkg.js";
import { walkImage, type Lockfile } from "./find-lockfiles.js";
import { scanGoBinary } from "./go-binary.js";
import { parseGoMod } from "./golang.js";
import { imageJoin, imagePathExists, readImageFile } from "./image-fs.js";
import { parsePackageLock } from "./npm.js";
import { sortedUnique } from "./order.js";
import { parseOsRelease } from "./os-release.js";
import { golangPurl, npmPurl, pypiPurl } from "./purl.js";
import { parsePoetryLock, parseRequirements } from "./python.js";
import type { Distro, SbomPackage } from "./types.js";

const CONCURRENT_LOCKFILES = 8;

export async function scanRootfs(rootDir: string, opts: { signal?: AbortSignal } = {}): Promise<SbomPackage[]> {
  const { signal } = opts;
  // Fail with the caller's reason, not whichever fs call notices first.
  signal?.throwIfAborted();
  const distro = await readDistro(rootDir, signal);
  const [deb, apk, { lockfiles, executables }] = await Promise.all([
    scanDpkg(rootDir, distro, signal),
    scanApk(rootDir, distro, signal),
    walkImage(rootDir, signal),
  ]);
  const sem = new Semaphore(CONCURRENT_LOCKFILES);
  const lang = await Promise.all(lockfiles.map((lf) => sem.run(() => scanLockfile(rootDir, lf, signal))));
  // The walk followed no symlink to reach these, so the host path is the root plus the image path.
  const bins = await Promise.all(
    executables.map((x) =>
      sem.run(() => {
        signal?.throwIfAborted();
        return scanGoBinary(path.join(rootDir, x), x);
      }),
    ),
  );
  return sortedUnique([...deb, ...apk, ...lang.flat(), ...bins.flat()]);
}

/** os-release(5): /etc/os-release, else /usr/lib/os-release. */
async function readDistro(root: string, signal?: AbortSignal): Promise<Distro> {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    const text = await readImageFile(root, p, signal);
    if (text !== undefined) return parseOsRelease(text);
  }
  return {};
}

async function scanLockfile(root: string, lf: Lockfile, signal?: AbortSignal): Promise<SbomPackage[]> {
  const text = await readImageFile(root, lf.path, signal);
  if (text === undefined) return [];
  const foundIn = lf.path;
  switch (lf.kind) {
    case "npm":
      return npmPackages(root, text, foundIn);
    case "gomod":
      return parseGoMod(text).map((m) => ({ name: m.path, version: m.version, type: "golang", purl: golangPurl(m.path, m.version), foundIn }));
    case "requirements":
      return parseRequirements(text).map((p) => pypi(p.name, p.version, foundIn));
    case "poetry":
      return parsePoetryLock(text).map((p) => pypi(p.name, p.version, foundIn));
  }
}

function pypi(name: string, version: string, foundIn: string): SbomPackage {
  return { name, version, type: "pypi", purl: pypiPurl(name, version), foundIn };
}

/**
 * Dev and optional entries are listed only when their directory exists next
 * to the lockfile: `npm ci --omit=dev` leaves them out, and an optional
 * package for another platform (@esbuild/darwin-arm64) is never installed.
 */
async function npmPackages(root: string, text: string, foundIn: string): Promise<SbomPackage[]> {
  const entries = parsePackageLock(text) ?? [];
  const dir = path.posix.dirname(foundIn);
  const out: SbomPackage[] = [];
  for (const e of entries) {
    if (e.conditional && !(await imagePathExists(root, imageJoin(dir, e.path)))) continue;
    const pkg: SbomPackage = { name: e.name, version: e.version, type: "npm", purl: npmPurl(e.name, e.version), foundIn };
    if (e.license) pkg.license = e.license;
    out.push(pkg);
  }
  return out;
}
