// `kiln index create -t REPO:TAG SRC...`: merge single-platform images (or
// indexes) in the store into one OCI image index, as `docker buildx
// imagetools create` does for a registry — the last step of building each
// platform on its own runner. `kiln index inspect NAME`: what an index holds.
import { parseFlags } from "./flags.js";
import { indexEntry, manifestPlatform, mergeIndexEntries, putIndex } from "../export/image-index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isDigest, type Digest } from "../oci/digest.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { formatPlatform } from "../oci/platform.js";
import { parseReference } from "../oci/reference.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { normalizeTagName } from "../store/refs.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";

export const INDEX_USAGE = `Usage: kiln index create [-t REPO:TAG]... [--dry-run] SOURCE...
       kiln index inspect [--raw] NAME

  create   Merge images in the store into one OCI image index. A SOURCE is a
           name (app:amd64), a name by digest (app@sha256:…) or a digest; an
           index SOURCE adds all its images. Two different images for one
           platform are an error. Prints the index digest.
             -t, --tag REPO:TAG   Name the index (repeatable)
             --dry-run            Print the index instead of storing it
  inspect  Show the platforms and digests an index holds (--raw: its JSON)
`;

/** A source's descriptor in the store: a tag, NAME@DIGEST, or a bare digest. */
export async function sourceDescriptor(store: Store, src: string): Promise<Descriptor> {
  const notFound = () =>
    new KilnError("IMAGE_NOT_FOUND", `no such image in the store: ${src}`, { hint: "build, pull or import it first; `kiln images` lists what there is" });
  let digest: Digest | undefined;
  if (isDigest(src)) digest = src as Digest;
  else {
    let ref;
    try {
      ref = parseReference(src);
    } catch (e) {
      throw new KilnError("INVALID_REFERENCE", `invalid image reference "${src}"`, { cause: e });
    }
    if (ref.digest) digest = ref.digest as Digest;
    else {
      const full = normalizeTagName(src);
      const hit = (await store.listImages()).find((r) => r.name === full);
      if (!hit) throw notFound();
      return hit.descriptor;
    }
  }
  if (!(await store.hasBlob(digest))) throw notFound();
  const buf = await store.readBlob(digest);
  let mediaType: string | undefined;
  try {
    const j = JSON.parse(buf.toString("utf8")) as { mediaType?: string; manifests?: unknown; config?: unknown };
    mediaType = j.mediaType ?? (j.manifests ? "application/vnd.oci.image.index.v1+json" : j.config ? "application/vnd.oci.image.manifest.v1+json" : undefined);
  } catch {
    mediaType = undefined;
  }
  if (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) throw new KilnError("NOT_AN_IMAGE", `${src} is not an image manifest or index`);
  return { mediaType: mediaType!, digest, size: buf.length };
}

export interface CreateIndexResult {
  readonly index: Descriptor;
  readonly json: Buffer;
}

/**
 * The index that merges `sources`: each manifest with its platform, each
 * index's entries (attestations kept with the images they describe), in the
 * order given. Written to the store (not tagged) unless dryRun.
 */
export async function createIndex(store: Store, sources: readonly string[], opts: { dryRun?: boolean } = {}): Promise<{ index: Descriptor; entries: Descriptor[] }> {
  if (sources.length === 0) throw new KilnError("USAGE", "kiln index create needs at least one SOURCE image", { hint: INDEX_USAGE.split("\n")[0] });
  let entries: Descriptor[] = [];
  const byPlatform = new Map<string, string>();
  const add = (list: Descriptor[], from: string) => {
    const fresh: Descriptor[] = [];
    for (const e of list) {
      if (!e.platform || e.platform.os === "unknown") continue;
      const key = formatPlatform(e.platform);
      const had = byPlatform.get(key);
      if (had === e.digest) continue;
      if (had) throw new KilnError("DUPLICATE_PLATFORM", `two different images for ${key}: ${had} and ${e.digest} (from ${from})`, { hint: "give one image per platform" });
      byPlatform.set(key, e.digest);
      fresh.push(e);
    }
    return fresh;
  };
  for (const src of sources) {
    const d = await sourceDescriptor(store, src);
    if (isIndexMediaType(d.mediaType)) {
      const children = [...(await store.readJson<ImageIndex>(d.digest)).manifests];
      const fresh = add(children, src);
      const attest = children.filter((c) => c.platform?.os === "unknown");
      entries = mergeIndexEntries([...entries, ...attest], fresh);
    } else {
      const p = await manifestPlatform(store, d);
      entries = mergeIndexEntries(entries, add([indexEntry(d, p)], src));
    }
  }
  const { canonicalJson } = await import("../store/canonical-json.js");
  const { imageIndex } = await import("../oci/manifest.js");
  if (opts.dryRun) {
    const text = canonicalJson(imageIndex(entries));
    const { createHash } = await import("node:crypto");
    const buf = Buffer.from(text);
    return { index: { mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${createHash("sha256").update(buf).digest("hex")}` as Digest, size: buf.length }, entries };
  }
  return { index: await putIndex(store, entries), entries };
}

export async function indexCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "create") {
    const { values, positionals } = parseFlags({ command: "index create",
      args: rest,
      allowPositionals: true,
      options: { tag: { type: "string", short: "t", multiple: true }, "dry-run": { type: "boolean" } },
    });
    const dryRun = values["dry-run"] ?? false;
    const tags = (values.tag ?? []).map(normalizeTagName);
    const { index, entries } = await withStoreLock(store.root, async () => {
      const r = await createIndex(store, positionals, { dryRun });
      if (!dryRun) for (const t of tags) await store.tag(t, r.index);
      return r;
    }, { name: GC_LOCK });
    if (dryRun) {
      const { canonicalJson } = await import("../store/canonical-json.js");
      const { imageIndex } = await import("../oci/manifest.js");
      io.out(`${canonicalJson(imageIndex(entries))}\n`);
      return 0;
    }
    for (const t of tags) io.err(`tagged ${t}\n`);
    io.out(`${index.digest}\n`);
    return 0;
  }
  if (sub === "inspect") {
    const { values, positionals } = parseFlags({ command: "index inspect", args: rest, allowPositionals: true, options: { raw: { type: "boolean" } } });
    if (positionals.length !== 1) throw new KilnError("USAGE", "kiln index inspect needs one NAME", { hint: INDEX_USAGE.split("\n")[1]!.trim() });
    const d = await sourceDescriptor(store, positionals[0]!);
    const buf = await store.readBlob(d.digest);
    if (values.raw) {
      io.out(`${buf.toString("utf8")}\n`);
      return 0;
    }
    const lines = [`Name:      ${positionals[0]}`, `MediaType: ${d.mediaType}`, `Digest:    ${d.digest}`];
    if (isIndexMediaType(d.mediaType)) {
      lines.push("", "Manifests:");
      for (const m of (JSON.parse(buf.toString("utf8")) as ImageIndex).manifests) {
        const kind = m.annotations?.["vnd.docker.reference.type"];
        lines.push(`  Name:      ${positionals[0]!.split("@")[0]}@${m.digest}`, `  MediaType: ${m.mediaType}`);
        lines.push(`  Platform:  ${m.platform ? formatPlatform(m.platform) : "-"}`);
        if (kind) lines.push(`  Type:      ${kind} of ${m.annotations?.["vnd.docker.reference.digest"] ?? "?"}`);
        lines.push("");
      }
    } else {
      lines.push(`Platform:  ${formatPlatform(await manifestPlatform(store, d))}`, "");
    }
    io.out(`${lines.join("\n")}\n`);
    return 0;
  }
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.out(INDEX_USAGE);
    return sub === undefined ? 1 : 0;
  }
  throw new KilnError("USAGE", `unknown index subcommand "${sub}"`, { hint: "kiln index create | kiln index inspect" });
}
