// kiln as a library: the same typed API the CLI calls.
//   import { Store, build } from "kiln";
//   const store = await Store.open();
//   const r = await build({ store, contextDir: ".", tags: ["app:1"], onEvent: (e) => console.log(e) });
export { build, type BuildResult } from "./build/build.js";
export type { BuildOptions, Output } from "./build/options.js";
export type { BuildEvent, EventSink } from "./build/events.js";
export { importRootfs, type ImportOptions } from "./import/rootfs-tarball.js";
export { Store, defaultStoreRoot, type ResolvedImage } from "./store/index.js";
export { pruneCache, type PruneOptions, type PruneResult } from "./cache/prune.js";
export { parseDockerfile } from "./dockerfile/index.js";
export type { Dockerfile, Instruction, Stage } from "./dockerfile/index.js";
export * from "./oci/index.js";
export { KilnError, type SourceLocation } from "./util/errors.js";
export { pullImage as pull, pushImage as push, type PullOptions, type PullResult, type PullEvent, type PushOptions, type PushResult, type PushEvent } from "./registry/index.js";
export { loadArchive, type LoadOptions, type LoadResult, type LoadedImage } from "./import/load-archive.js";
export { exportDockerArchive, exportOciLayout, type DockerArchiveOptions, type OciLayoutOptions } from "./export/index.js";
export { layerReport, formatLayerReport, type LayerReport, type LayerStats, type WasteHint } from "./cli/layer-report.js";
export { ttyProgress, rawJsonProgress, type ProgressDisplay } from "./cli/progress-tty.js";
