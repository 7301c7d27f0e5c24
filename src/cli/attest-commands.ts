// `kiln attest ls IMAGE` and `kiln attest show IMAGE`: the provenance and
// SBOM statements an image index carries, read from the store, or from a
// registry when the store does not hold the name (or with --remote).
import { parseFlags } from "./flags.js";
import { listAttestations, readStatement, type AttestationRecord, type ContentSource } from "../attest/read-attestations.js";
import { PredicateType } from "../attest/in-toto.js";
import type { Digest } from "../oci/digest.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from "../oci/platform.js";
import { hasExplicitRegistry, parseReference } from "../oci/reference.js";
import { parseIndex } from "../oci/validate.js";
import type { RegistryAccess } from "../registry/client.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { table } from "./format.js";
import { sourceDescriptor } from "../images/create-index.js";
import { registryAccess, TRANSPORT } from "./registry-options.js";

export const ATTEST_USAGE = `Usage: kiln attest ls [--remote] IMAGE
       kiln attest show [--type provenance|sbom|PREDICATE-TYPE] [--platform OS/ARCH] [--remote] IMAGE

  ls     List the attestations of each platform image: platform, type,
         predicate type, statement digest.
  show   Print the in-toto statements as JSON: one statement with --type,
         else an array of all of them, for one platform (default: this
         machine's, or the only one).
  IMAGE is read from the store; a name with a registry that the store does
  not hold (or any name with --remote) is read from the registry.
`;

const TYPES: Record<string, string> = { provenance: PredicateType.slsaProvenance, sbom: PredicateType.spdx };

export async function attestCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseFlags({ command: "attest",
    args: rest,
    allowPositionals: true,
    options: { ...TRANSPORT, remote: { type: "boolean" }, type: { type: "string" }, platform: { type: "string" } },
  });
  if ((sub !== "ls" && sub !== "show") || positionals.length !== 1) throw new KilnError("USAGE", "kiln attest needs ls or show, and one IMAGE", { hint: ATTEST_USAGE.split("\n")[0] });
  const image = positionals[0]!;
  const { index, source } = await openIndex(store, image, values.remote ?? false, () => registryAccess(values, io));
  const records = await listAttestations(source, index);
  if (records.length === 0) {
    throw new KilnError("NO_ATTESTATIONS", `${image} has no attestations`, { hint: "build it with --provenance=mode=max and/or --sbom=true" });
  }
  if (sub === "ls") {
    const rows: string[][] = records.flatMap((r) =>
      r.statements.map((s) => [r.platform ? formatPlatform(r.platform) : r.subject.slice(0, 19), typeName(s.predicateType), s.predicateType, s.descriptor.digest]),
    );
    io.out(table([["PLATFORM", "TYPE", "PREDICATE TYPE", "DIGEST"], ...rows]));
    return 0;
  }
  const record = pickPlatform(records, values.platform, image);
  const want = values.type === undefined ? undefined : (TYPES[values.type] ?? values.type);
  const chosen = record.statements.filter((s) => want === undefined || s.predicateType === want);
  if (chosen.length === 0) {
    throw new KilnError("NO_ATTESTATIONS", `${image} has no ${values.type} attestation for ${record.platform ? formatPlatform(record.platform) : record.subject}`, {
      hint: `it has: ${record.statements.map((s) => typeName(s.predicateType)).join(", ")}`,
    });
  }
  const statements = await Promise.all(chosen.map((s) => readStatement(source, s.descriptor)));
  io.out(`${JSON.stringify(want === undefined ? statements : statements[0], null, 2)}\n`);
  return 0;
}

function typeName(predicateType: string): string {
  return Object.entries(TYPES).find(([, v]) => v === predicateType)?.[0] ?? "other";
}

function pickPlatform(records: readonly AttestationRecord[], platform: string | undefined, image: string): AttestationRecord {
  if (platform !== undefined) {
    const want = parsePlatform(platform);
    const r = records.find((x) => x.platform && platformMatches(want, x.platform));
    if (!r) throw new KilnError("NO_ATTESTATIONS", `${image} has no attestations for ${platform}`, { hint: `platforms: ${platformsOf(records)}` });
    return r;
  }
  if (records.length === 1) return records[0]!;
  const host = records.find((x) => x.platform && platformMatches(hostPlatform(), x.platform));
  if (host) return host;
  throw new KilnError("USAGE", `${image} has attestations for several platforms`, { hint: `pick one with --platform: ${platformsOf(records)}` });
}

function platformsOf(records: readonly AttestationRecord[]): string {
  return records.map((r) => (r.platform ? formatPlatform(r.platform) : r.subject)).join(", ");
}

async function openIndex(store: Store, image: string, remote: boolean, access: () => Promise<RegistryAccess>): Promise<{ index: ImageIndex; source: ContentSource }> {
  if (!remote) {
    const local = await sourceDescriptor(store, image).catch((e: unknown) => {
      if (hasExplicitRegistry(image)) return undefined;
      throw e;
    });
    if (local) {
      if (!isIndexMediaType(local.mediaType)) throw new KilnError("NO_ATTESTATIONS", `${image} is a single image, not an index: it has no attestations`, { hint: "build it with --provenance=mode=max and/or --sbom=true" });
      return { index: await store.readIndex(local.digest), source: { manifest: (d) => store.readBlob(d), blob: (d) => store.readBlob(d) } };
    }
  }
  const { openPullSource } = await import("../registry/pull-source.js");
  const { readCapped } = await import("../util/read-capped.js");
  const { MAX_CONFIG_BYTES } = await import("../oci/limits.js");
  const ref = parseReference(image);
  const { repo, first: top } = await openPullSource(ref, await access(), (r) => r.getManifest(ref.digest ?? ref.tag ?? "latest"));
  if (!isIndexMediaType(top.mediaType)) throw new KilnError("NO_ATTESTATIONS", `${image} is a single image, not an index: it has no attestations`);
  return {
    index: parseIndex(top.bytes, `image index ${image}`),
    source: { manifest: async (d: Digest) => (await repo.getManifest(d)).bytes, blob: async (d: Digest) => readCapped(await repo.getBlob(d), { what: `blob ${d} of ${image}`, limit: MAX_CONFIG_BYTES }) },
  };
}
