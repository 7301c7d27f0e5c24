// `kiln index create -t REPO:TAG SRC...`: merge single-platform images (or
// indexes) in the store into one OCI image index, as `docker buildx
// imagetools create` does for a registry — the last step of building each
// platform on its own runner. `kiln index inspect NAME`: what an index holds.
import { parseFlags } from "./flags.js";
import { manifestPlatform, putIndex } from "../export/image-index.js";
import { type IndexSourceReader, mergeIndexSources } from "../export/index-merge.js";
import { imageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import { canonicalJson } from "../store/canonical-json.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isDigest, sha256Digest, type Digest } from "../oci/digest.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { parseReference } from "../oci/reference.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { normalizeTagName } from "../store/refs.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { formatInspect } from "./inspect-format.js";

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
    new KilnError("IMAGE_NOT_FOUND", `no such image in the store: ${src}`, {
      // Pulling per-platform pushes to merge them would download every layer; imagetools moves only manifests.
      hint: "build, pull or import it first (`kiln images` lists what there is); to merge images already pushed to a registry, use `kiln imagetools create -t REPO:TAG REF...` (no layer moves)",
    });
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

/** Sources in the store, for mergeIndexSources. */
function storeSources(store: Store): IndexSourceReader {
  return {
    describe: (src) => sourceDescriptor(store, src),
    readIndex: (d) => store.readJson<ImageIndex>(d.digest),
    platformOf: (d) => manifestPlatform(store, d),
  };
}

/**
 * The index that merges `sources`: each manifest with its platform, each
 * index's entries (attestations kept with the images they describe), in the
 * order given. Written to the store (not tagged) unless dryRun.
 */
export async function createIndex(store: Store, sources: readonly string[], opts: { dryRun?: boolean } = {}): Promise<{ index: Descriptor; entries: Descriptor[] }> {
  if (sources.length === 0) throw new KilnError("USAGE", "kiln index create needs at least one SOURCE image", { hint: INDEX_USAGE.split("\n")[0] });
  const { entries } = await mergeIndexSources(storeSources(store), sources);
  if (opts.dryRun) {
    const buf = Buffer.from(canonicalJson(imageIndex(entries)));
    return { index: { mediaType: MediaType.ociIndex, digest: sha256Digest(buf), size: buf.length }, entries };
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
    const what = isIndexMediaType(d.mediaType) ? { manifests: (await store.readIndex(d.digest)).manifests } : { platform: await manifestPlatform(store, d) };
    io.out(formatInspect(positionals[0]!, d, what));
    return 0;
  }
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.out(INDEX_USAGE);
    return sub === undefined ? 1 : 0;
  }
  throw new KilnError("USAGE", `unknown index subcommand "${sub}"`, { hint: "kiln index create | kiln index inspect" });
}
