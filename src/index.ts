// kiln as a library: the same typed API the CLI calls.
//   import { Store, build } from "kiln";
//   const store = await Store.open();
//   const r = await build({ store, contextDir: ".", tags: ["app:1"], onEvent: (e) => console.log(e) });
//   await build({ store, contextDir: ".", platforms: [parsePlatform("linux/amd64"), parsePlatform("linux/arm64")],
//     attestations: { provenance: { mode: "max" }, sbom: true }, outputs: [{ kind: "registry", name: "reg:5000/app:1" }] });
export { build, type BuildResult, type PlatformBuild, type PushedImage, type WrittenOutput } from "./build/build.js";
export type { BuildOptions, BuildAnnotation, BuildContext, Output, FileOutput } from "./build/options.js";
export type { AttestationOptions } from "./attest/attach.js";
export type { SandboxOptions, ProcessLimits, Ulimit } from "./exec/sandbox.js";
export type { SshSource } from "./exec/ssh-agent.js";
export type { ExtraHost, NetworkMode } from "./exec/runtime-spec.js";
export type { BuildEvent, EventSink } from "./build/events.js";
export { importRootfs, type ImportOptions } from "./import/rootfs-tarball.js";
export { Store, defaultStoreRoot, type ResolvedImage } from "./store/index.js";
export { pruneCache, type PruneOptions, type PruneResult } from "./cache/prune.js";
// What the image commands do (kiln rmi, image prune, index create|inspect), as functions.
export { gc, type GcResult } from "./images/gc.js";
export { removeImages, type RemoveOptions, type RemoveOutcome, type RemoveResult } from "./images/remove.js";
export { pruneImages, type PruneFilter, type PruneImagesOptions, type PruneImagesResult } from "./images/prune.js";
export { createIndex, inspectIndex, type CreateIndexOptions, type CreatedIndex, type InspectedIndex } from "./images/create-index.js";
export { parseDockerfile } from "./dockerfile/index.js";
export type { Dockerfile, Instruction, Stage } from "./dockerfile/index.js";
export * from "./oci/index.js";
export { KILN_ERROR_CODES, KilnError, type KilnErrorCode, type SourceLocation } from "./util/errors.js";
export { pullImage as pull, pushImage as push, type PullOptions, type PullResult, type PullEvent, type PushOptions, type PushResult, type PushEvent } from "./registry/index.js";
export { createRemoteIndex, inspectRemote, type CreateRemoteIndexOptions, type RemoteIndex, type InspectedRef, type ImagetoolsEvent } from "./registry/imagetools.js";
export { loadRegistryConfig, parseRegistryConfig, type RegistryConfig, type RegistryHostConfig, type RegistryAccess } from "./registry/index.js";
export { loadArchive, type LoadOptions, type LoadResult, type LoadedImage } from "./import/load-archive.js";
export { exportDockerArchive, exportOciLayout, type DockerArchiveOptions, type OciLayoutOptions } from "./export/index.js";
export { layerReport, formatLayerReport, type LayerReport, type LayerStats, type WasteHint } from "./cli/layer-report.js";
export { ttyProgress, rawJsonProgress, type ProgressDisplay } from "./cli/progress-tty.js";
