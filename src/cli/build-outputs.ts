// Outputs the library writes to files but a user asked to go elsewhere:
// `dest=-` (stdout, as buildx: `-o -`, `type=tar,dest=-`, `type=oci,dest=-`)
// and `--load` (the image into the running docker daemon, through
// `docker load`). Each goes to a private temp file during the build and is
// handed over after it succeeds; a failed build delivers nothing.
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { FileOutput } from "../build/options.js";
import { isIndexMediaType } from "../oci/media-types.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";

export interface OutputSinks {
  /** What to give build(): the same outputs, with temp files for stdout and --load. */
  readonly outputs: FileOutput[];
  /** Something writes to stdout: nothing else may (-q's digest goes nowhere). */
  readonly usesStdout: boolean;
  readonly deliver: () => Promise<void>;
  readonly discard: () => Promise<void>;
}

export async function prepareOutputSinks(outputs: readonly FileOutput[], load: boolean, tmpDir: string, io: Io): Promise<OutputSinks> {
  const toStdout = outputs.filter((o) => o.dest === "-");
  if (toStdout.length > 1) throw new KilnError("USAGE", "only one --output can write to stdout (dest=-)");
  if (toStdout[0]?.kind === "oci" && !toStdout[0].tar) throw new KilnError("USAGE", "--output type=oci,dest=- needs tar=true: a directory cannot go to stdout");
  const out = io.stdout ?? process.stdout;
  if (toStdout.length && (out as { isTTY?: boolean }).isTTY) {
    throw new KilnError("USAGE", "refusing to write a tar to a terminal: redirect stdout or give dest=FILE", { hint: "e.g. kiln build -o - . > rootfs.tar" });
  }
  if (!toStdout.length && !load) return { outputs: [...outputs], usesStdout: false, deliver: async () => {}, discard: async () => {} };
  const dir = await mkdtemp(path.join(tmpDir, `outputs-${process.pid}-`));
  const stdoutFile = path.join(dir, "stdout.tar");
  const loadFile = path.join(dir, "load.tar");
  const discard = () => rm(dir, { recursive: true, force: true });
  return {
    outputs: [...outputs.map((o) => (o.dest === "-" ? { ...o, dest: stdoutFile } : o)), ...(load ? [{ kind: "docker" as const, dest: loadFile }] : [])],
    usesStdout: toStdout.length > 0,
    deliver: async () => {
      try {
        if (toStdout.length) await copyTo(stdoutFile, out);
        if (load) await dockerLoad(loadFile, io);
      } finally {
        await discard();
      }
    },
    discard,
  };
}

function copyTo(file: string, out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const src = createReadStream(file);
    src.on("error", reject);
    // process.stdout is never ended: resolve once every byte is handed over.
    src.on("end", () => (out.write("") ? resolve() : out.once("drain", () => resolve())));
    src.pipe(out, { end: false });
  });
}

/** `docker load -i FILE` against the daemon the environment names (DOCKER_HOST, as buildx's --load). */
function dockerLoad(file: string, io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["load", "-i", file], { env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(new KilnError("LOAD_FAILED", `--load: cannot run docker: ${e.code === "ENOENT" ? "docker is not on PATH" : e.message}`, { hint: "install the docker CLI, or use -o type=docker,dest=FILE and load it elsewhere" })),
    );
    child.on("close", (code) => {
      if (code === 0) {
        io.err(text.replace(/^/gm, "load: ").replace(/load: $/, ""));
        resolve();
      } else reject(new KilnError("LOAD_FAILED", `--load: docker load failed: ${text.trim()}`, { hint: "is the docker daemon running and DOCKER_HOST right?" }));
    });
  });
}

/** docker's image ID: the config digest of an image; an index's own digest. */
export async function imageId(store: Store, manifest: Descriptor | undefined): Promise<string> {
  if (!manifest) return "";
  if (isIndexMediaType(manifest.mediaType)) return manifest.digest;
  return (await store.readJson<{ config: { digest: string } }>(manifest.digest)).config.digest;
}
