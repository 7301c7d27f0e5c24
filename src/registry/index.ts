// Registry client: pull, push, auth and credentials (distribution spec).
export { pullImage, ensureImage, pickPlatform, type PullOptions, type PullResult, type PullEvent } from "./pull.js";
export { pushImage, type PushOptions, type PushResult, type PushEvent } from "./push.js";
export { RegistryClient, type ClientOptions } from "./client.js";
export { Repository, MANIFEST_ACCEPT } from "./repository.js";
export { pushBlob, type UploadResult } from "./blob-upload.js";
export { clientFor, apiHost } from "./hosts.js";
export { lookupCredentials, saveCredentials, removeCredentials, dockerConfigPath, type Credentials } from "./credentials.js";
export { parseChallenge, type AuthChallenge } from "./auth-challenge.js";
export { isLoopbackHost } from "./transport.js";
export { verifyLogin } from "./login.js";
