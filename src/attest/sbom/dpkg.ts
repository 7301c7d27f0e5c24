// Debian packages: /var/lib/dpkg/status, and the one-file-per-package
// /var/lib/dpkg/status.d/ that distroless images carry instead.
import { parseParagraphs, type Paragraph } from "./control-file.js";
import { imageJoin, listImageDir, readImageFile } from "./image-fs.js";
import { debPurl } from "./purl.js";
import type { Distro, SbomPackage } from "./types.js";

export const DPKG_STATUS = "/var/lib/dpkg/status";
export const DPKG_STATUS_D = "/var/lib/dpkg/status.d";

/**
 * Installed means the third word of Status is "installed", whatever the
 * selection ("install", "hold") — dpkg-query counts held packages as
 * installed too. Half-configured or unpacked packages are not listed.
 * status.d files carry no Status field: everything there is installed.
 */
function isInstalled(p: Paragraph, statusRequired: boolean): boolean {
  const status = p.get("status");
  if (status === undefined) return !statusRequired;
  return status.split(/\s+/)[2] === "installed";
}

export function dpkgPackages(text: string, foundIn: string, distro: Distro, statusRequired: boolean): SbomPackage[] {
  const out: SbomPackage[] = [];
  for (const p of parseParagraphs(text)) {
    const name = p.get("package");
    const version = p.get("version");
    if (!name || !version || !isInstalled(p, statusRequired)) continue;
    const arch = p.get("architecture") || undefined;
    const pkg: SbomPackage = { name, version, type: "deb", purl: debPurl(name, version, arch, distro), foundIn };
    if (arch) pkg.arch = arch;
    const maintainer = p.get("maintainer");
    if (maintainer) pkg.supplier = maintainer;
    // "Source: glibc (2.36-9)" names the source package and, when it differs, its version.
    const source = p.get("source")?.split(/\s+/)[0];
    if (source) pkg.sourcePackage = source;
    out.push(pkg);
  }
  return out;
}

export async function scanDpkg(root: string, distro: Distro, signal?: AbortSignal): Promise<SbomPackage[]> {
  const out: SbomPackage[] = [];
  const status = await readImageFile(root, DPKG_STATUS, signal);
  if (status !== undefined) out.push(...dpkgPackages(status, DPKG_STATUS, distro, true));
  for (const name of await listImageDir(root, DPKG_STATUS_D)) {
    // distroless keeps each package's md5sums next to its control data.
    if (name.endsWith(".md5sums")) continue;
    const file = imageJoin(DPKG_STATUS_D, name);
    const text = await readImageFile(root, file, signal);
    if (text !== undefined) out.push(...dpkgPackages(text, file, distro, false));
  }
  return out;
}
