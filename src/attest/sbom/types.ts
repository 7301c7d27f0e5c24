// The package record every scanner produces and the SPDX writer consumes.
// Kept free of any SBOM format so another writer (CycloneDX) could use it.

export type SbomPackageType = "deb" | "apk" | "npm" | "golang" | "pypi";

export interface SbomPackage {
  name: string;
  version: string;
  type: SbomPackageType;
  purl: string;
  /** where found, image path, e.g. /var/lib/dpkg/status */
  foundIn: string;
  /** As the package declares it (apk `L:`, npm lockfile `license`); not checked against the SPDX list here. */
  license?: string;
  /** As the package database writes it, e.g. `Debian GCC Maintainers <debian-gcc@lists.debian.org>`. */
  supplier?: string;
  arch?: string;
  sourcePackage?: string;
}

/** What /etc/os-release says, for purl namespaces and the distro qualifier. */
export interface Distro {
  /** ID, lower-case (debian, ubuntu, alpine, wolfi, …). */
  id?: string;
  versionId?: string;
  versionCodename?: string;
}
