// What `kiln index inspect` and `kiln imagetools inspect` print for an
// index or a manifest, in buildx imagetools inspect's layout: the same
// lines whether it came from the store or a registry.
import type { Descriptor } from "../oci/descriptor.js";
import { formatPlatform, type Platform } from "../oci/platform.js";

export function formatInspect(name: string, d: Descriptor, what: { readonly manifests?: readonly Descriptor[]; readonly platform?: Platform }): string {
  const lines = [`Name:      ${name}`, `MediaType: ${d.mediaType}`, `Digest:    ${d.digest}`];
  if (what.manifests) {
    lines.push("", "Manifests:");
    for (const m of what.manifests) {
      const kind = m.annotations?.["vnd.docker.reference.type"];
      lines.push(`  Name:      ${name.split("@")[0]}@${m.digest}`, `  MediaType: ${m.mediaType}`);
      lines.push(`  Platform:  ${m.platform ? formatPlatform(m.platform) : "-"}`);
      if (kind) lines.push(`  Type:      ${kind} of ${m.annotations?.["vnd.docker.reference.digest"] ?? "?"}`);
      lines.push("");
    }
  } else if (what.platform) {
    lines.push(`Platform:  ${formatPlatform(what.platform)}`, "");
  }
  return `${lines.join("\n")}\n`;
}
