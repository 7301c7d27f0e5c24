// Registry client: pull, push, auth and credentials (distribution spec).
export { pullImage, ensureImage, pickPlatform, type PullOptions, type PullResult, type PullEvent } from "./pull.js";
export { pushImage, type PushOptions, type PushResult, type PushEvent } from "./push.js";
export { listReferrers, readReferrers, referrerDescriptor, type ListReferrersOptions, type ReferrerResult } from "./referrers.js";
export { referrersTag } from "./referrers-tag.js";
export { RegistryClient, type ClientOptions } from "./client.js";
export { Repository, MANIFEST_ACCEPT, type ManifestPut, type ReferrersAnswer } from "./repository.js";
export { pushBlob, type UploadResult } from "./blob-upload.js";
export { clientFor, apiHost } from "./hosts.js";
export { lookupCredentials, saveCredentials, removeCredentials, dockerConfigPath, type Credentials } from "./credentials.js";
export { parseChallenge, type AuthChallenge } from "./auth-challenge.js";
export { isLoopbackHost } from "./transport.js";
export { verifyLogin } from "./login.js";
export { loadRegistryConfig, parseRegistryConfig, configFilePath } from "./config-file.js";
export { hostConfig, mirrorsOf, withMirrors, type RegistryConfig, type RegistryHostConfig } from "./host-config.js";
export { openPullSource, pullHosts } from "./pull-source.js";
export type { RegistryAccess } from "./client.js";
