// Docker's credentials file: $DOCKER_CONFIG/config.json (default
// ~/.docker/config.json). Lookup order as docker's: a per-registry
// credHelpers entry, then the credsStore helper, then the file's `auths`
// (base64 "user:pass" in `auth`). Helpers are `docker-credential-<name>`
// programs speaking JSON on stdin/stdout.
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { commitFile, writeTempFile } from "../store/durable-file.js";
import { KilnError } from "../util/errors.js";

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token (helpers return it with username "<token>"). */
  readonly identityToken?: string;
}

export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || homedir(), ".docker");
  return path.join(dir, "config.json");
}

export async function readDockerConfig(env: NodeJS.ProcessEnv = process.env): Promise<DockerConfig> {
  const file = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw e;
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new KilnError("DOCKER_CONFIG_INVALID", `${file} is not valid JSON`, { cause: e, hint: "fix or remove the file" });
  }
}

async function writeDockerConfig(cfg: DockerConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const file = dockerConfigPath(env);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Same directory for the temp file so the rename is atomic; 0600 as docker.
  const tmp = await writeTempFile(dir, `${JSON.stringify(cfg, null, "\t")}\n`, "config.json");
  try {
    await chmod(tmp, 0o600);
    await commitFile(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** The keys docker uses for a host: Docker Hub is stored under its v1 URL. */
function configKeys(host: string): string[] {
  if (host === "docker.io" || host === "index.docker.io" || host === "registry-1.docker.io") {
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  }
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

function storeKey(host: string): string {
  return configKeys(host)[0]!;
}

export async function lookupCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const cfg = await readDockerConfig(env);
  const keys = configKeys(host);
  const helper = keys.map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  if (helper) {
    const c = await helperGet(helper, storeKey(host), env);
    if (c) return c;
  }
  for (const k of keys) {
    const a = cfg.auths?.[k];
    if (!a) continue;
    if (a.identitytoken) return { identityToken: a.identitytoken, ...(a.username ? { username: a.username } : {}) };
    if (a.auth) {
      const text = Buffer.from(a.auth, "base64").toString("utf8");
      const colon = text.indexOf(":");
      if (colon < 0) throw new KilnError("DOCKER_CONFIG_INVALID", `the auth entry for ${k} in ${dockerConfigPath(env)} is not base64 user:password`);
      return { username: text.slice(0, colon), password: text.slice(colon + 1) };
    }
    if (a.username && a.password) return { username: a.username, password: a.password };
  }
  return undefined;
}

/** Save credentials as `docker login` does; returns where they went. */
export async function saveCredentials(host: string, creds: { username: string; password: string }, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const cfg = await readDockerConfig(env);
  const key = storeKey(host);
  const helper = cfg.credHelpers?.[key] ?? cfg.credHelpers?.[host] ?? cfg.credsStore;
  if (helper) {
    await runHelper(helper, "store", JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), env);
    // docker keeps an empty entry so `docker info` lists the registry.
    cfg.auths = { ...cfg.auths, [key]: {} };
    await writeDockerConfig(cfg, env);
    return `docker-credential-${helper}`;
  }
  cfg.auths = { ...cfg.auths, [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") } };
  await writeDockerConfig(cfg, env);
  return dockerConfigPath(env);
}

/** Forget credentials for `host`; false when there were none. */
export async function removeCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const cfg = await readDockerConfig(env);
  const keys = configKeys(host);
  let found = false;
  const helper = keys.map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  if (helper) {
    try {
      await runHelper(helper, "erase", storeKey(host), env);
      found = true;
    } catch {
      // not stored there; the file may still have it
    }
  }
  for (const k of keys) {
    if (cfg.auths && k in cfg.auths) {
      delete cfg.auths[k];
      found = true;
    }
  }
  if (found) await writeDockerConfig(cfg, env);
  return found;
}

async function helperGet(helper: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  let out: string;
  try {
    out = await runHelper(helper, "get", serverUrl, env);
  } catch (e) {
    if (/credentials not found/i.test((e as Error).message)) return undefined;
    throw e;
  }
  const j = JSON.parse(out) as { Username?: string; Secret?: string };
  if (!j.Secret) return undefined;
  if (j.Username === "<token>") return { identityToken: j.Secret };
  return { ...(j.Username ? { username: j.Username } : {}), password: j.Secret };
}

function runHelper(helper: string, verb: "get" | "store" | "erase", input: string, env: NodeJS.ProcessEnv): Promise<string> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", (e) =>
      reject(
        new KilnError("CREDENTIAL_HELPER_MISSING", `cannot run ${program}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, {
          cause: e,
          hint: `install ${program} or remove "${helper}" from ${dockerConfigPath(env)}`,
        }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new KilnError("CREDENTIAL_HELPER_FAILED", `${program} ${verb} failed: ${(out + err).trim() || `exit ${code}`}`));
    });
    child.stdin.end(input);
  });
}
