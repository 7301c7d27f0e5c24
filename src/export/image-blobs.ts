// The blobs an image is made of, as tree entries under blobs/sha256/: the
// manifest and config exactly as stored (their bytes are their digests), and
// each layer from getLayerBlob, streamed from its file when written.
import { stat } from "node:fs/promises";
import type { Descriptor } from "../oci/descriptor.js";
import { digestHex } from "../oci/digest.js";
import type { ClientOptions } from "../registry/client.js";
import { remoteOrigin } from "../store/remote-blobs.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { TreeEntry } from "./file-tree.js";
import type { ExportImage, GetLayerBlob } from "./types.js";

export function blobEntryPath(d: Descriptor): string {
  return `blobs/sha256/${digestHex(d.digest)}`;
}

/** Default layer source: the blob in the store, fetched first from the registry it lives in when the store has only its origin (store/remote-blobs.ts). */
export function storeLayerBlob(store: Store, registry: ClientOptions = {}): GetLayerBlob {
  return async (layer) => {
    if (!(await store.hasBlob(layer.digest)) && remoteOrigin(store.paths, layer.digest)) {
      await (await import("../registry/remote-blob.js")).fetchRemoteBlob(store, layer, registry);
    }
    if (!(await store.hasBlob(layer.digest))) {
      throw new KilnError("BLOB_NOT_FOUND", `layer ${layer.digest} is not in the store`);
    }
    return store.blobPath(layer.digest);
  };
}

export async function imageBlobEntries(store: Store, image: ExportImage, getLayerBlob: GetLayerBlob = storeLayerBlob(store)): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for (const d of [image.manifestDescriptor, image.manifest.config]) {
    out.push({ path: blobEntryPath(d), kind: "bytes", data: await store.readBlob(d.digest) });
  }
  for (const layer of image.manifest.layers) {
    const source = await getLayerBlob(layer);
    const { size } = await stat(source);
    // Cheap guard against a stale or wrong file: the digest was verified when
    // the blob was written; a size mismatch means we were handed another file.
    if (size !== layer.size) {
      throw new KilnError("BLOB_SIZE_MISMATCH", `layer ${layer.digest}: ${source} has ${size} bytes, the manifest says ${layer.size}`);
    }
    out.push({ path: blobEntryPath(layer), kind: "file", source });
  }
  return out;
}
