// The local store: an OCI image layout on disk plus kiln's working folders.
export { Store, type ResolvedImage, type PutImageOptions } from "./store.js";
export { BlobStore, type BlobInfo } from "./blobs.js";
export { type ImageRef, normalizeTagName } from "./refs.js";
export { withStoreLock, type LockOptions } from "./lock.js";
export { defaultStoreRoot, storePaths, type StorePaths } from "./root.js";
export { canonicalJson } from "./canonical-json.js";
export { commitFile, createFileDurable, fsyncDir, tempPath, writeFileDurable, writeTempFile } from "./durable-file.js";
