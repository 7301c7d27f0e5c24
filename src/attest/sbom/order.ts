// One order and one identity for packages, shared by the scanner and the
// SPDX writer, so the same image always gives the same list.
import { byCodeUnit } from "./image-fs.js";
import type { SbomPackage, SbomPackageType } from "./types.js";

const TYPE_RANK: Record<SbomPackageType, number> = { deb: 0, apk: 1, npm: 2, golang: 3, pypi: 4 };

/**
 * What makes two records the same package: multi-arch dpkg can install
 * libc6:amd64 and libc6:i386 side by side, so the architecture counts.
 */
export function identity(p: SbomPackage): string[] {
  return [p.type, p.name, p.version, p.foundIn, p.arch ?? ""];
}

export function comparePackages(a: SbomPackage, b: SbomPackage): number {
  const r = TYPE_RANK[a.type] - TYPE_RANK[b.type];
  if (r !== 0) return r;
  const ia = identity(a);
  const ib = identity(b);
  for (let i = 1; i < ia.length; i++) {
    const c = byCodeUnit(ia[i]!, ib[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** Sorted, with repeats (the same package listed twice in one lockfile) dropped. */
export function sortedUnique(pkgs: readonly SbomPackage[]): SbomPackage[] {
  const seen = new Set<string>();
  const out: SbomPackage[] = [];
  for (const p of [...pkgs].sort(comparePackages)) {
    const key = JSON.stringify(identity(p));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}
