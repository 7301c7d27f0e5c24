// Named references live in the layout's index.json, one manifest (or index)
// descriptor per name, annotated with org.opencontainers.image.ref.name set
// to the FULL normalised reference ("docker.io/library/hello:1"), so that
// `skopeo inspect oci:<root>:docker.io/library/hello:1` finds it. Updates are
// read-modify-write under the store lock, written temp + fsync + rename.
import { readFileSync } from "node:fs";
import { Annotation, type Descriptor } from "../oci/descriptor.js";
import { type ImageIndex, imageIndex } from "../oci/manifest.js";
import { InvalidReferenceError, parseReference, formatReference } from "../oci/reference.js";
import { validateIndex } from "../oci/validate.js";
import { KilnError } from "../util/errors.js";
import { canonicalJson } from "./canonical-json.js";
import { writeFileDurable } from "./durable-file.js";
import { withStoreLock } from "./lock.js";
import type { StorePaths } from "./root.js";

export interface ImageRef {
  readonly name: string;
  readonly descriptor: Descriptor;
}

/** "hello:1" -> "docker.io/library/hello:1". Digest references cannot be tags. */
export function normalizeTagName(name: string): string {
  let ref;
  try {
    ref = parseReference(name);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new KilnError("INVALID_REFERENCE", e.message, { cause: e });
    throw e;
  }
  if (ref.digest) {
    throw new KilnError("INVALID_TAG", `cannot tag an image as "${name}": a tag name cannot contain a digest`, {
      hint: "use name:tag, e.g. myapp:1.0",
    });
  }
  return formatReference(ref);
}

export async function readIndex(paths: StorePaths): Promise<ImageIndex> {
  return parseIndex(paths, readIndexText(paths));
}

// Synchronous: one open/read/close of a file of ~400 bytes per image name
// (async, four thread-pool round trips), read by every build and tag.
function readIndexText(paths: StorePaths): string | undefined {
  try {
    return readFileSync(paths.index, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function parseIndex(paths: StorePaths, text: string | undefined): ImageIndex {
  if (text === undefined) return imageIndex([]);
  try {
    return validateIndex(JSON.parse(text), paths.index);
  } catch (e) {
    throw new KilnError("STORE_CORRUPT", `${paths.index} is not a valid OCI index`, { cause: e, hint: "run kiln store check" });
  }
}

export function refsOf(idx: ImageIndex): ImageRef[] {
  const out: ImageRef[] = [];
  for (const d of idx.manifests) {
    const name = d.annotations?.[Annotation.refName];
    if (name) out.push({ name, descriptor: d });
  }
  return out;
}

/** Apply `mutate` to index.json atomically with respect to other kiln
 * processes. Entries are kept sorted by name so the file is deterministic. */
export async function updateIndex(paths: StorePaths, mutate: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
  await withStoreLock(paths.root, async () => {
    const text = readIndexText(paths);
    const idx = parseIndex(paths, text);
    const manifests = [...idx.manifests];
    const next = mutate(manifests);
    next.sort((a, b) => cmp(a.annotations?.[Annotation.refName] ?? "", b.annotations?.[Annotation.refName] ?? "") || cmp(a.digest, b.digest));
    const out = canonicalJson({ ...idx, manifests: next });
    // Same bytes as the file holds (an untag of a missing name, a re-tag):
    // nothing to write. Those bytes were made durable by whoever wrote them
    // (every writer fsyncs the file before its rename, the folder after it).
    if (out === text) return;
    await writeFileDurable(paths.index, out, paths.tmp);
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
