// Where `kiln build` takes its context and Dockerfile from, as `docker build`
// does: a directory; `-` (a tar on stdin, plain or compressed, or a lone
// Dockerfile with an empty context); a git repository (`URL#REF:SUBDIR`);
// and `-f -` (the Dockerfile on stdin). Anything read from stdin or cloned
// is put in a private directory under the store's tmp/, removed after the
// build.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { KilnError } from "../util/errors.js";

export interface BuildInputs {
  readonly contextDir: string;
  readonly dockerfile?: string;
  readonly cleanup: () => Promise<void>;
}

export async function resolveBuildInputs(opts: {
  readonly context: string;
  readonly file?: string;
  readonly tmpDir: string;
  readonly stdin: NodeJS.ReadableStream;
}): Promise<BuildInputs> {
  if (opts.context === "-" && opts.file === "-") throw new KilnError("USAGE", "the context and the Dockerfile cannot both come from stdin (-f - with CONTEXT -)");
  const scratch = await mkdtemp(path.join(opts.tmpDir, `input-${process.pid}-`));
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  try {
    let contextDir = opts.context;
    let dockerfile = opts.file;
    if (opts.context === "-") {
      const r = await contextFromStdin(opts.stdin, scratch);
      contextDir = r.dir;
      if (r.dockerfile && dockerfile === undefined) dockerfile = r.dockerfile;
    } else if (isGitUrl(opts.context)) {
      contextDir = await gitContext(opts.context, path.join(scratch, "git"));
    }
    if (dockerfile === "-") {
      dockerfile = path.join(scratch, "Dockerfile.stdin");
      await pipeline(opts.stdin, createWriteStream(dockerfile));
    }
    return { contextDir, ...(dockerfile !== undefined ? { dockerfile } : {}), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** docker's test for a git context: a git/ssh URL, a URL ending .git, github.com/…, or (kiln's) a file:// repository. */
export function isGitUrl(s: string): boolean {
  const base = s.split("#")[0]!;
  return /^(git:\/\/|git@|ssh:\/\/|file:\/\/|github\.com\/)/.test(s) || (/^https?:\/\//.test(s) && /\.git$/.test(base));
}

// A tar holds "ustar" at 257; gzip, bzip2, xz and zstd have their magic.
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from("BZh"), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];

async function contextFromStdin(stdin: NodeJS.ReadableStream, scratch: string): Promise<{ dir: string; dockerfile?: string }> {
  const file = path.join(scratch, "stdin");
  await pipeline(stdin, createWriteStream(file));
  const head = Buffer.alloc(262);
  const fh = await open(file);
  const { bytesRead } = await fh.read(head, 0, head.length, 0).finally(() => fh.close());
  const dir = path.join(scratch, "context");
  const isTar = bytesRead >= 262 && head.subarray(257, 262).toString("latin1") === "ustar";
  if (!isTar && !COMPRESSED.some((m) => head.subarray(0, m.length).equals(m))) {
    // As docker: what is not an archive is a Dockerfile, with an empty context.
    await mkdir(dir);
    const dockerfile = path.join(scratch, "Dockerfile");
    await rename(file, dockerfile);
    return { dir, dockerfile };
  }
  await mkdir(dir);
  // GNU tar: detects the compression, drops leading "/" and refuses "..".
  await run("tar", ["-xf", file, "-C", dir, "--no-same-owner", "--no-overwrite-dir"]).catch((e: unknown) => {
    throw new KilnError("BAD_CONTEXT", `the build context on stdin is not a readable tar: ${(e as Error).message}`, { hint: "e.g. tar -c . | kiln build -" });
  });
  await rm(file);
  return { dir };
}

/** Clones `URL#REF:SUBDIR` (REF: branch, tag or commit; default the remote's HEAD) and returns the context directory. */
async function gitContext(spec: string, dir: string): Promise<string> {
  const hash = spec.indexOf("#");
  const url = hash < 0 ? spec : spec.slice(0, hash);
  const frag = hash < 0 ? "" : spec.slice(hash + 1);
  const colon = frag.indexOf(":");
  const ref = colon < 0 ? frag : frag.slice(0, colon);
  const subdir = colon < 0 ? "" : frag.slice(colon + 1);
  const git = (args: string[]) =>
    run("git", ["-c", "advice.detachedHead=false", "-c", "protocol.file.allow=always", ...args]).catch((e: unknown) => {
      throw new KilnError("GIT_CONTEXT", `git context ${spec}: ${(e as Error).message}`, { hint: "check the URL and the ref (#branch, #tag or #commit, then :subdir)" });
    });
  await git(["clone", "-q", "--no-checkout", "--", url, dir]);
  await git(["-C", dir, "checkout", "-q", ref || "HEAD", "--"]);
  await git(["-C", dir, "submodule", "update", "-q", "--init", "--recursive", "--depth", "1"]);
  // BuildKit leaves .git out of the context unless asked to keep it.
  await rm(path.join(dir, ".git"), { recursive: true, force: true });
  const ctx = path.resolve(dir, subdir.replace(/^\/+/, ""));
  if (ctx !== dir && !ctx.startsWith(dir + path.sep)) throw new KilnError("GIT_CONTEXT", `git context ${spec}: subdirectory "${subdir}" leaves the repository`);
  if (!(await stat(ctx).catch(() => undefined))?.isDirectory()) throw new KilnError("GIT_CONTEXT", `git context ${spec}: no directory "${subdir}" at ${ref || "HEAD"}`);
  return ctx;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => reject(e));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(err.trim() || `${cmd} exited ${code}`))));
  });
}

