// A stand-in for Docker Hub: a real registry (Debian's docker-registry) on
// 127.0.0.1 holding library/busybox:latest (an index of linux/amd64 and
// linux/arm64, from Debian's busybox-static) and library/debian:bookworm
// (the mmdebstrap minbase tarball scripts/setup.sh makes), and a kiln config
// file that makes it docker.io's mirror. Tests never reach Docker Hub: with
// this, `FROM busybox` resolves to docker.io/library/busybox:latest and is
// pulled from the mirror.
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { busyboxTarballs, requireArm64Emulation } from "../platform/prerequisites.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";
import { type Digest, sha256Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { pushBlob } from "../../src/registry/blob-upload.js";
import { RegistryClient } from "../../src/registry/client.js";
import { Repository } from "../../src/registry/repository.js";
import { kiln } from "./kiln.js";

export const DEBIAN_MINBASE = "/var/cache/kiln/debian-bookworm-minbase.tar";

export interface HubMirror {
  readonly registry: RegistryServer;
  /** A kiln config file: [registry."docker.io"] mirrors = [registry.host], upstream = false (a test never reaches Docker Hub). */
  readonly config: string;
  /** Digests on the mirror: busybox's index and its two images, debian's image. */
  readonly digests: { readonly busybox: string; readonly busyboxAmd64: string; readonly busyboxArm64: string; readonly debian?: string };
}

async function must(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await kiln(args, env);
  if (r.code !== 0) throw new Error(`kiln ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Starts the mirror and fills it; `debian: true` also pushes library/debian:bookworm (170 MB: a few seconds). */
export async function startHubMirror(opts: { debian?: boolean } = {}): Promise<HubMirror & { stop(): Promise<void> }> {
  await requireArm64Emulation();
  if (opts.debian && !existsSync(DEBIAN_MINBASE)) throw new Error(`${DEBIAN_MINBASE} is missing: run KILN_SETUP_TESTS=1 scripts/setup.sh as root (mmdebstrap makes it)`);
  const registry = await startRegistry();
  const dir = await mkdtemp(path.join(tmpdir(), "kiln-hub-"));
  try {
    const store = path.join(dir, "store");
    const bb = await busyboxTarballs();
    const name = `${registry.host}/library/busybox:latest`;
    const fixed = { SOURCE_DATE_EPOCH: "0" };
    const busyboxAmd64 = await must(["--root", store, "import", "--platform", "linux/amd64", bb.amd64, name], fixed);
    const busyboxArm64 = await must(["--root", store, "import", "--platform", "linux/arm64", bb.arm64, name], fixed);
    await rm(bb.dir, { recursive: true, force: true });
    const busybox = /digest: (sha256:[0-9a-f]{64})/.exec(await must(["--root", store, "push", name]))![1]!;
    const debian = opts.debian ? await pushDebian(registry.host, dir) : undefined;
    await rm(store, { recursive: true, force: true });
    const config = path.join(dir, "config.toml");
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${registry.host}"]\nupstream = false\n`);
    return {
      registry,
      config,
      digests: { busybox, busyboxAmd64, busyboxArm64, ...(debian ? { debian } : {}) },
      async stop() {
        await registry.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * library/debian:bookworm for linux/amd64: the minbase tarball as it is,
 * one uncompressed layer (valid OCI: application/vnd.oci.image.layer.v1.tar),
 * pushed with kiln's own blob upload. Compressing 170 MB would cost a
 * minute on a busy machine; uploading it costs a second or two.
 */
async function pushDebian(host: string, dir: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(DEBIAN_MINBASE)) hash.update(chunk as Buffer);
  const tarDigest = `sha256:${hash.digest("hex")}` as Digest;
  const layer = { mediaType: MediaType.ociLayer, digest: tarDigest, size: (await stat(DEBIAN_MINBASE)).size };
  const configBytes = Buffer.from(
    JSON.stringify({ created: "1970-01-01T00:00:00Z", architecture: "amd64", os: "linux", config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["bash"] }, rootfs: { type: "layers", diff_ids: [tarDigest] } }),
  );
  const configFile = path.join(dir, "debian-config.json");
  await writeFile(configFile, configBytes);
  const config = { mediaType: MediaType.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }));
  const client = new RegistryClient(host);
  try {
    const repo = new Repository(client, "library/debian", "pull,push");
    await pushBlob(repo, layer, { path: DEBIAN_MINBASE });
    await pushBlob(repo, config, { path: configFile });
    await repo.putManifest("bookworm", manifest, MediaType.ociManifest);
  } finally {
    await client.close();
  }
  return sha256Digest(manifest);
}

/** startHubMirror as a describe block's beforeAll/afterAll; the getter throws if read too early. */
export function useHubMirror(opts: { debian?: boolean } = {}): HubMirror {
  let m: Awaited<ReturnType<typeof startHubMirror>> | undefined;
  beforeAll(async () => {
    m = await startHubMirror(opts);
  }, 300_000);
  afterAll(async () => {
    await m?.stop();
  });
  const get = (): HubMirror => {
    if (!m) throw new Error("hub mirror read before its beforeAll ran");
    return m;
  };
  return {
    get registry() {
      return get().registry;
    },
    get config() {
      return get().config;
    },
    get digests() {
      return get().digests;
    },
  };
}
