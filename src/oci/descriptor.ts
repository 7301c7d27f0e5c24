import type { Digest } from "./digest.js";
import type { Platform } from "./platform.js";

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

export const Annotation = {
  refName: "org.opencontainers.image.ref.name",
  created: "org.opencontainers.image.created",
  /** docker/containerd: the full reference name a layout entry was tagged with. */
  containerdImageName: "io.containerd.image.name",
} as const;
