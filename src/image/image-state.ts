// The image a stage is building, as an immutable value: every instruction
// returns a new state (go-containerregistry's mutate, in spirit).
import { DEFAULT_PATH, envLookup, type ContainerConfig, type HistoryEntry, type ImageConfig } from "../oci/config.js";
import type { Platform } from "../oci/platform.js";
import type { LayerRecord } from "../store/snapshot-index.js";

export interface ImageState {
  readonly platform: Platform;
  readonly config: ContainerConfig;
  readonly layers: readonly LayerRecord[];
  readonly history: readonly HistoryEntry[];
  /** CMD was inherited from the base: ENTRYPOINT then resets it, as docker does. */
  readonly cmdFromBase: boolean;
  /** MAINTAINER, or the base image's author. */
  readonly author?: string;
}

// BuildKit gives every image a PATH when its base has none (scratch included).
function withDefaultPath(c: ContainerConfig): ContainerConfig {
  return envLookup(c.Env, "PATH") === undefined ? { ...c, Env: [`PATH=${DEFAULT_PATH}`, ...(c.Env ?? [])] } : c;
}

export function stateFromImage(config: ImageConfig, layers: readonly LayerRecord[]): ImageState {
  return {
    platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    config: withDefaultPath(config.config ?? {}),
    layers,
    history: config.history ?? [],
    cmdFromBase: true,
    ...(config.author !== undefined ? { author: config.author } : {}),
  };
}

/** FROM scratch: BuildKit's empty image has the default PATH and WorkingDir "/". */
export function emptyState(platform: Platform): ImageState {
  return { platform, config: withDefaultPath({ WorkingDir: "/" }), layers: [], history: [], cmdFromBase: false };
}

export function withConfig(s: ImageState, patch: Partial<ContainerConfig>, history: HistoryEntry): ImageState {
  return { ...s, config: { ...s.config, ...patch }, history: [...s.history, { ...history, empty_layer: true }] };
}

export function withLayer(s: ImageState, layer: LayerRecord | null, history: HistoryEntry): ImageState {
  if (!layer) return { ...s, history: [...s.history, { ...history, empty_layer: true }] };
  return { ...s, layers: [...s.layers, layer], history: [...s.history, history] };
}

/**
 * The image config. With `sourceDateEpoch` (seconds), `created` and every
 * history time newer than it become it, the base image's entries included,
 * as BuildKit's exporter does: a base built after the epoch must not put
 * its own build time back into a reproducible image.
 */
export function toImageConfig(s: ImageState, created: string, sourceDateEpoch?: number): ImageConfig {
  let history = s.history;
  if (sourceDateEpoch !== undefined) {
    const epoch = new Date(sourceDateEpoch * 1000).toISOString();
    // A missing or unreadable time cannot be shown to be older, so it gets the epoch too.
    const clamp = (t: string | undefined): string => (t !== undefined && Date.parse(t) <= sourceDateEpoch * 1000 ? t : epoch);
    created = clamp(created);
    history = history.map((h) => ({ ...h, created: clamp(h.created) }));
  }
  return {
    created,
    ...(s.author !== undefined ? { author: s.author } : {}),
    architecture: s.platform.architecture,
    os: s.platform.os,
    ...(s.platform.variant ? { variant: s.platform.variant } : {}),
    config: s.config,
    rootfs: { type: "layers", diff_ids: s.layers.map((l) => l.diffId) },
    history,
  };
}
