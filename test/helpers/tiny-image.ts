// A tiny but real image for tests: one gzip layer (a tar made with
// tar-stream) holding a few files, a config with the matching diff_id, all
// written into a Store with putImage.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import type { Descriptor } from "../../src/oci/descriptor.js";
import type { Digest } from "../../src/oci/digest.js";
import type { ImageConfig } from "../../src/oci/config.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Store } from "../../src/store/index.js";

export async function makeLayerTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => pack.on("end", r));
  const dirs = new Set<string>();
  for (const name of Object.keys(files).sort()) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!dirs.has(d)) {
        dirs.add(d);
        pack.entry({ name: `${d}/`, type: "directory", mode: 0o755, mtime: new Date(0) });
      }
    }
    pack.entry({ name, mode: 0o755, mtime: new Date(0) }, files[name]!);
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export interface TinyImage {
  readonly manifestDescriptor: Descriptor;
  readonly layer: Descriptor;
  readonly config: ImageConfig;
}

export async function makeTinyImage(store: Store, opts: { files?: Record<string, string>; label?: string } = {}): Promise<TinyImage> {
  const raw = await makeLayerTar(opts.files ?? { "hello.txt": "hello from kiln\n", "etc/os-release": "ID=kiln-test\n" });
  const diffId = `sha256:${createHash("sha256").update(raw).digest("hex")}` as Digest;
  const gz = gzipSync(raw, { level: 6 });
  const { digest, size } = await store.writeBlob(gz);
  const layer: Descriptor = { mediaType: MediaType.ociLayerGzip, digest, size };
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: "2024-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/hello.txt"], ...(opts.label ? { Labels: { test: opts.label } } : {}) },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "kiln test" }],
  };
  const manifestDescriptor = await store.putImage(config, [layer]);
  return { manifestDescriptor, layer, config };
}
