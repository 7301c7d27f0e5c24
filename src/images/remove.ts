// Removing images from the store, as `docker rmi`: a name is untagged (the
// image goes with its last name); an ID removes the image and all its names,
// refused without force when several names or another image built on it
// would lose it. Garbage collection then deletes what nothing reaches.
import type { Digest } from "../oci/digest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { normalizeTagName, type ImageRef } from "../store/refs.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { gc } from "./gc.js";

export interface RemoveOptions {
  /** Remove an image that several names or another image use (docker rmi -f). */
  readonly force?: boolean;
  /** false: untag only, keep the blobs (docker rmi --no-prune). Default true. */
  readonly prune?: boolean;
}

/** What happened to one of the names asked for, in order: the names it untagged, or why it was refused. */
export type RemoveOutcome = { readonly image: string; readonly untagged: readonly string[] } | { readonly image: string; readonly error: KilnError };

export interface RemoveResult {
  readonly outcomes: readonly RemoveOutcome[];
  /** Manifests deleted from the store by the garbage collection that followed. */
  readonly deleted: readonly Digest[];
}

export async function requireImage(store: Store, name: string): Promise<ResolvedImage> {
  const img = await store.resolveImage(name);
  if (!img) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${name}`, { hint: "kiln images lists the images in the store" });
  return img;
}

/** The ref `name` denotes, when it is a name (not an ID). */
export async function refNamed(store: Store, name: string): Promise<ImageRef | undefined> {
  let full: string;
  try {
    full = normalizeTagName(name);
  } catch {
    return undefined;
  }
  return (await store.listImages()).find((r) => r.name === full);
}

/** docker's short image ID (12 hex digits) for messages. */
function shortDigest(d: string): string {
  return d.replace(/^sha256:/, "").slice(0, 12);
}

export async function removeImages(store: Store, images: readonly string[], opts: RemoveOptions = {}): Promise<RemoveResult> {
  const outcomes: RemoveOutcome[] = [];
  const removed = new Set<string>();
  for (const arg of images) {
    try {
      outcomes.push({ image: arg, untagged: await removeOne(store, arg, opts.force ?? false, removed) });
    } catch (err) {
      // One refused image does not stop the others (as docker rmi); unexpected errors do.
      if (!(err instanceof KilnError)) throw err;
      outcomes.push({ image: arg, error: err });
    }
  }
  const deleted: Digest[] = [];
  if (removed.size && opts.prune !== false) {
    const stillNamed = new Set((await store.listImages()).map((r) => r.descriptor.digest as string));
    await gc(store);
    for (const d of removed) if (!stillNamed.has(d) && !(await store.hasBlob(d as Digest))) deleted.push(d as Digest);
  }
  return { outcomes, deleted };
}

/** Untags what `arg` names; returns the names untagged (familiar form) and adds what may go to `removed`. */
async function removeOne(store: Store, arg: string, force: boolean, removed: Set<string>): Promise<string[]> {
  const refs = await store.listImages();
  const byName = await refNamed(store, arg);
  if (byName) {
    // docker: removing a name only untags; the image goes with its last name.
    await store.untag(byName.name);
    if (!refs.some((r) => r.name !== byName.name && r.descriptor.digest === byName.descriptor.digest)) removed.add(byName.descriptor.digest);
    return [familiarReference(parseReference(byName.name))];
  }
  const img = await requireImage(store, arg);
  const id = img.manifestDescriptor.digest;
  const named = refs.filter((r) => r.descriptor.digest === id || (img.name !== undefined && r.name === img.name));
  if (named.length > 1 && !force) {
    throw new KilnError("CONFLICT", `unable to delete ${shortDigest(id)} (must be forced): it is referenced by ${named.length} names (${named.map((r) => familiarReference(parseReference(r.name))).join(", ")})`, {
      hint: "remove the names one by one, or use kiln rmi -f",
    });
  }
  const children = await dependents(store, img, new Set(named.map((r) => r.name)));
  if (children.length && !force) {
    throw new KilnError("CONFLICT", `unable to delete ${shortDigest(id)}: image is the base of ${children.map((c) => familiarReference(parseReference(c))).join(", ")}`, {
      hint: "remove those images first, or use kiln rmi -f (their layers are kept)",
    });
  }
  const untagged: string[] = [];
  for (const r of named) {
    await store.untag(r.name);
    untagged.push(familiarReference(parseReference(r.name)));
  }
  for (const r of named) removed.add(r.descriptor.digest);
  removed.add(id);
  return untagged;
}

/** Tagged images (other than `except`) built on top of `img`: its layers are a strict prefix of theirs. */
async function dependents(store: Store, img: ResolvedImage, except: Set<string>): Promise<string[]> {
  const mine = img.config.rootfs.diff_ids;
  if (mine.length === 0) return [];
  const out: string[] = [];
  for (const r of await store.listImages()) {
    if (except.has(r.name)) continue;
    const other = await store.resolveImage(r.name).catch(() => undefined);
    const theirs = other?.config.rootfs.diff_ids ?? [];
    if (theirs.length > mine.length && mine.every((d, i) => theirs[i] === d)) out.push(r.name);
  }
  return out;
}
