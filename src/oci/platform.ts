// Platform strings as docker and containerd understand them: "linux/arm64",
// "linux/arm/v7", with containerd's normalisation (aarch64 -> arm64, arm64
// implies v8, arm implies v7, x86_64 -> amd64).
import { arch as hostArch } from "node:os";

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
}

export class InvalidPlatformError extends Error {
  readonly code = "INVALID_PLATFORM";
  constructor(readonly value: string, why: string) {
    super(`invalid platform "${value}": ${why} (expected os/arch[/variant], e.g. linux/arm64)`);
  }
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
};

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (p.architecture.toLowerCase() === "armel") variant = variant ?? "v6";
  if (architecture === "arm64" && (variant === "v8" || variant === "8")) variant = undefined;
  if (architecture === "arm" && variant === undefined) variant = "v7";
  if (architecture === "arm" && variant && /^\d+$/.test(variant)) variant = `v${variant}`;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function parsePlatform(value: string): Platform {
  const parts = value.trim().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => x === "")) {
    throw new InvalidPlatformError(value, "wrong number of parts");
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** True when an image for `have` can serve a request for `want`. */
export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

export function hostPlatform(): Platform {
  return normalizePlatform({ os: "linux", architecture: hostArch() === "x64" ? "amd64" : hostArch() });
}

/** Platforms as the user gave them, normalized and deduplicated, order kept. */
export function uniquePlatforms(platforms: readonly Platform[]): Platform[] {
  const seen = new Set<string>();
  const out: Platform[] = [];
  for (const p of platforms.map(normalizePlatform)) {
    const k = formatPlatform(p);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(p);
    }
  }
  return out;
}
