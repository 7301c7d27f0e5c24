// What every sink takes: an image already described by its manifest and
// config, and a way to get each layer's compressed blob as a file (the
// builder compresses lazily, on first need).
import type { ImageConfig } from "../oci/config.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { ImageManifest } from "../oci/manifest.js";

export interface ExportImage {
  readonly manifestDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
}

/** Returns the path of a file holding exactly the blob `layer` describes. */
export type GetLayerBlob = (layer: Descriptor) => Promise<string>;

export interface ExportResult {
  /** Where it was written. */
  readonly dest: string;
  /** The manifest descriptor of the exported image (what a registry would call its digest). */
  readonly manifest: Descriptor;
}
