// Alpine (and Wolfi) packages: the apk installed database, one record per
// package, "X:value" lines, records separated by a blank line.
import { readImageFile } from "./image-fs.js";
import { apkPurl } from "./purl.js";
import type { Distro, SbomPackage } from "./types.js";

export const APK_INSTALLED = "/lib/apk/db/installed";

export function apkPackages(text: string, foundIn: string, distro: Distro): SbomPackage[] {
  const out: SbomPackage[] = [];
  for (const record of text.split(/\n[ \t]*\n/)) {
    const f = new Map<string, string>();
    for (const line of record.split("\n")) {
      // The package fields occur once per record; file lines (F:, R:, Z:) repeat but are not read.
      if (line.length >= 2 && line[1] === ":" && !f.has(line[0]!)) f.set(line[0]!, line.slice(2).trim());
    }
    const name = f.get("P");
    const version = f.get("V");
    if (!name || !version) continue;
    const arch = f.get("A") || undefined;
    const pkg: SbomPackage = { name, version, type: "apk", purl: apkPurl(name, version, arch, distro), foundIn };
    if (arch) pkg.arch = arch;
    const license = f.get("L");
    if (license) pkg.license = license;
    const maintainer = f.get("m");
    if (maintainer) pkg.supplier = maintainer;
    const origin = f.get("o");
    if (origin) pkg.sourcePackage = origin;
    out.push(pkg);
  }
  return out;
}

export async function scanApk(root: string, distro: Distro, signal?: AbortSignal): Promise<SbomPackage[]> {
  const text = await readImageFile(root, APK_INSTALLED, signal);
  return text === undefined ? [] : apkPackages(text, APK_INSTALLED, distro);
}
