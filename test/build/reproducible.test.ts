// Reproducible builds: testdata/reproducible copied to two different places
// (different paths, file times, owners and umask), each built into its own
// fresh store with the same SOURCE_DATE_EPOCH, gives the same manifest
// digest, the same index digest for two platforms and the same
// `--output type=oci` tar, byte for byte. What would make them differ is
// checked directly too: every layer entry's time is at most the epoch, tar
// headers hold no names, atime or ctime, gzip headers no name or time, and
// no host path or host name reaches a layer or the config.
import { execFileSync } from "node:child_process";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK, decodeHeader, decodePax, isZeroBlock, padding } from "../../src/tar/tar-header.js";
import { emptyState, toImageConfig, type ImageState } from "../../src/image/image-state.js";
import type { ImageConfig } from "../../src/oci/config.js";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { kiln, REPO, storeWithBusybox } from "../helpers/kiln.js";
import { busyboxTarballs, requireArm64Emulation } from "../platform/prerequisites.js";

const TESTDATA = path.join(REPO, "testdata/reproducible");
const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z
/** A context file older than the epoch keeps its time: clamping never moves a time forward. */
const OLD = EPOCH - 86_400;
/** The base image was made before the epoch, as bases usually are. */
const BASE_EPOCH = EPOCH - 30 * 86_400;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const temps: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

/** What one build gave, as a user sees it. */
interface Built {
  /** containerimage.digest from --metadata-file: the manifest, or the index for several platforms. */
  digest: string;
  mediaType: string;
  /** The `--output type=oci,dest=…tar` file. */
  ociTar: Buffer;
  store: string;
  context: string;
}

/**
 * A copy of testdata/reproducible that differs from every other copy in all
 * the ways that must not matter: where it is, when its files were touched
 * (all after the epoch, so all clamped), who owns them (COPY makes them
 * 0:0), and the owner names and times inside vendor.tar.
 */
let committedTar: Promise<string> | undefined;

async function contextCopy(variant: number, opts: { committedTar?: boolean } = {}): Promise<string> {
  // Different depths, so even the length of the path differs.
  const parent = await tempDir(`kiln-repro-ctx${variant}-`);
  const dir = path.join(parent, ...Array.from({ length: variant }, (_, i) => `nested${i}`), "context");
  await mkdir(path.dirname(dir), { recursive: true });
  await cp(TESTDATA, dir, { recursive: true });
  const now = Date.now() / 1000;
  const touched = now - variant * 3_600 - 0.25; // fractional: sub-second parts must not leak either
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      // A git checkout's modes follow the umask; the inputs must be the same, so fix them.
      await chmod(p, e.isDirectory() ? 0o755 : 0o644);
      if (variant > 0) await chown(p, 1000 + variant, 2000 + variant);
      await utimes(p, touched, touched);
    }
  };
  const stage = path.join(parent, "vendor-src");
  await mkdir(path.join(stage, "lib"), { recursive: true });
  await writeFile(path.join(stage, "lib/vendored.txt"), "vendored\n");
  await chmod(path.join(stage, "lib/vendored.txt"), 0o644);
  await chmod(path.join(stage, "lib"), 0o755);
  execFileSync("tar", [
    "--format=posix",
    "--sort=name",
    `--owner=${variant ? "bob" : "alice"}:0`,
    `--group=${variant ? "builders" : "staff"}:0`,
    "-cf",
    path.join(dir, "vendor.tar"),
    "-C",
    stage,
    // No entry for lib/ itself: the directory is implied, and must come out 0755 under any umask.
    "lib/vendored.txt",
  ]);
  // committedTar: vendor.tar is a file of the commit, the same bytes in every checkout.
  if (opts.committedTar) {
    committedTar ??= Promise.resolve(path.join(await tempDir("kiln-repro-commit-"), "vendor.tar")).then(async (f) => (await cp(path.join(dir, "vendor.tar"), f), f));
    await cp(await committedTar, path.join(dir, "vendor.tar"));
  }
  await walk(dir);
  await utimes(path.join(dir, "config/extra.conf"), OLD, OLD);
  return dir;
}

/**
 * A fresh store with busybox imported for each platform, the same in every
 * store (as two CI runners pulling the same base would have it) when
 * `baseEpoch` is given; without it, created now, as a plain `kiln import`.
 */
async function storeWithBases(platforms: readonly string[], baseEpoch?: number): Promise<string> {
  const env: NodeJS.ProcessEnv = { SOURCE_DATE_EPOCH: baseEpoch === undefined ? undefined : String(baseEpoch) };
  if (platforms.length === 1 && platforms[0] === "linux/amd64" && baseEpoch !== undefined) {
    const root = await storeWithBusybox({ sourceDateEpoch: String(baseEpoch) });
    temps.push(root);
    return root;
  }
  const root = await tempDir("kiln-repro-store-");
  const bb = await busyboxTarballs();
  temps.push(bb.dir);
  for (const p of platforms) {
    const r = await kiln(["--root", root, "import", "--platform", p, p === "linux/arm64" ? bb.arm64 : bb.amd64, "busybox:latest"], env);
    if (r.code !== 0) throw new Error(`import ${p}: ${r.stderr}`);
  }
  return root;
}

async function buildIn(store: string, context: string, flags: readonly string[], env: NodeJS.ProcessEnv, umask: number): Promise<Built> {
  const out = await tempDir("kiln-repro-out-");
  const meta = path.join(out, "meta.json");
  const ociTar = path.join(out, "image.tar");
  // kiln's own files (scratch copies, directories it creates) must not take their modes from the umask.
  const oldUmask = process.umask(umask);
  let r;
  try {
    r = await kiln(["--root", store, "build", "--progress", "plain", "-t", "repro:1", "--metadata-file", meta, "--output", `type=oci,dest=${ociTar}`, ...flags, context], env);
  } finally {
    process.umask(oldUmask);
  }
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const m = JSON.parse(await readFile(meta, "utf8")) as { "containerimage.digest": string; "containerimage.descriptor": { mediaType: string } };
  return { digest: m["containerimage.digest"], mediaType: m["containerimage.descriptor"].mediaType, ociTar: await readFile(ociTar), store, context };
}

const PLATFORM = "linux/amd64";

/** Two builds that share nothing but the Dockerfile, the file contents and the epoch. */
async function buildTwice(flags: readonly string[], epoch = EPOCH, opts: { committedTar?: boolean } = {}): Promise<[Built, Built]> {
  const at = flags.indexOf("--platform");
  const platforms = at >= 0 ? flags[at + 1]!.split(",") : [PLATFORM];
  const env = { SOURCE_DATE_EPOCH: String(epoch) };
  const a = await buildIn(await storeWithBases(platforms, BASE_EPOCH), await contextCopy(0, opts), flags, env, 0o022);
  const b = await buildIn(await storeWithBases(platforms, BASE_EPOCH), await contextCopy(2, opts), flags, env, 0o077);
  return [a, b];
}

// ---- reading what the OCI tar holds ----

/** The files of an OCI layout tar, by path. */
function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let off = 0; off + BLOCK <= tar.length; ) {
    const block = tar.subarray(off, off + BLOCK);
    if (isZeroBlock(block)) break;
    const h = decodeHeader(block);
    off += BLOCK;
    if (h.typeflag === "0") files.set(h.name.replace(/^\.\//, ""), tar.subarray(off, off + h.size));
    off += h.size + padding(h.size);
  }
  return files;
}

function blob(files: Map<string, Buffer>, digest: string): Buffer {
  const b = files.get(`blobs/sha256/${digest.replace(/^sha256:/, "")}`);
  if (!b) throw new Error(`blob ${digest} is not in the OCI tar`);
  return b;
}

/** Every image manifest (with its config) the layout's index leads to, attestation manifests left out. */
function images(files: Map<string, Buffer>): { manifest: ImageManifest; config: ImageConfig; configText: string }[] {
  const out: { manifest: ImageManifest; config: ImageConfig; configText: string }[] = [];
  const visit = (digest: string, mediaType: string) => {
    const text = blob(files, digest);
    if (mediaType === MediaType.ociIndex) {
      for (const m of (JSON.parse(text.toString()) as ImageIndex).manifests) {
        if (m.platform?.os !== "unknown") visit(m.digest, m.mediaType);
      }
      return;
    }
    const manifest = JSON.parse(text.toString()) as ImageManifest;
    const configText = blob(files, manifest.config.digest).toString();
    out.push({ manifest, config: JSON.parse(configText) as ImageConfig, configText });
  };
  for (const m of (JSON.parse(files.get("index.json")!.toString()) as ImageIndex).manifests) visit(m.digest, m.mediaType);
  return out;
}

interface RawEntry {
  name: string;
  typeflag: string;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Keys of the PAX header before this entry. */
  pax: string[];
  body: Buffer;
}

/** A layer tar's entries exactly as their header blocks say, PAX keys included. */
function rawEntries(tar: Buffer): RawEntry[] {
  const out: RawEntry[] = [];
  let pax = new Map<string, Buffer>();
  for (let off = 0; off + BLOCK <= tar.length; ) {
    const block = tar.subarray(off, off + BLOCK);
    if (isZeroBlock(block)) break;
    const h = decodeHeader(block);
    const body = tar.subarray(off + BLOCK, off + BLOCK + h.size);
    off += BLOCK + h.size + padding(h.size);
    if (h.typeflag === "x") {
      pax = decodePax(body);
      continue;
    }
    const field = (o: number) => block.toString("latin1", o, o + 32).replace(/\0.*$/s, "");
    out.push({
      name: pax.get("path")?.toString() ?? h.name,
      typeflag: h.typeflag,
      mode: h.mode,
      mtime: h.mtime,
      uid: h.uid,
      gid: h.gid,
      uname: field(265),
      gname: field(297),
      devmajor: h.devmajor,
      devminor: h.devminor,
      pax: [...pax.keys()],
      body,
    });
    pax = new Map();
  }
  return out;
}

describe("reproducible builds of testdata/reproducible", () => {
  let one: [Built, Built];
  beforeAll(async () => {
    one = await buildTwice([]);
  }, 600_000);

  it("two builds from different places and stores give the same manifest digest and the same OCI tar", () => {
    const [a, b] = one;
    expect(a.mediaType).toBe(MediaType.ociManifest);
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
    expect(b.ociTar.equals(a.ociTar)).toBe(true);
  });

  it("another SOURCE_DATE_EPOCH gives another digest", async () => {
    const env = { SOURCE_DATE_EPOCH: String(EPOCH + 1) };
    const c = await buildIn(one[0].store, one[0].context, [], env, 0o022);
    expect(c.digest).toMatch(/^sha256:/);
    expect(c.digest).not.toBe(one[0].digest);
  });

  it("every layer entry, whiteouts and directories included, is no newer than the epoch; older times are kept", () => {
    const files = untar(one[0].ociTar);
    const [img] = images(files);
    const names: string[] = [];
    for (const l of img!.manifest.layers) {
      // GNU tar, not our reader, lists the times.
      const listing = execFileSync("tar", ["-tvz", "--full-time", "--numeric-owner"], { input: blob(files, l.digest), env: { ...process.env, TZ: "UTC" } }).toString();
      for (const line of listing.trim().split("\n")) {
        const m = /^(\S+)\s+(\d+)\/(\d+)\s+\S+\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(.*?)(?: -> .*| link to .*)?$/.exec(line);
        expect(m, line).not.toBeNull();
        const [, , , , when, name] = m!;
        const t = Date.parse(`${when!.replace(" ", "T")}Z`) / 1000;
        expect(t, `${name} ${when}`).toBeLessThanOrEqual(EPOCH);
        names.push(name!);
        if (name === "app/config/extra.conf") expect(t).toBe(OLD);
        if (["app/config/app.conf", "opt/vendor/lib/vendored.txt", "app/notes.txt", "app/ran"].includes(name!)) expect(t, name).toBe(EPOCH);
      }
    }
    // The kinds of entry that must be clamped are really there.
    expect(names).toEqual(expect.arrayContaining(["bin/.wh.vi", "home/.wh..wh..opq", "home/new/file", "app/bin/greet", "app/config/", "opt/vendor/lib/vendored.txt", "app/notes.txt", "app/ran"]));
  });

  it("tar headers carry no user or group names, no atime or ctime, no device numbers but for devices, and are sorted", () => {
    const files = untar(one[0].ociTar);
    const [img] = images(files);
    for (const l of img!.manifest.layers) {
      const entries = rawEntries(gunzipSync(blob(files, l.digest)));
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect({ name: e.name, uname: e.uname, gname: e.gname }).toEqual({ name: e.name, uname: "", gname: "" });
        expect(e.pax.filter((k) => /time$/.test(k)), e.name).toEqual([]);
        if (e.typeflag !== "3" && e.typeflag !== "4") expect([e.name, e.devmajor, e.devminor]).toEqual([e.name, 0, 0]);
      }
      const names = entries.map((e) => e.name.replace(/\/$/, ""));
      expect(names).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    }
    // COPY gives 0:0 whatever owned the context files (variant 2 was 1002:2002).
    const copied = images(untar(one[1].ociTar))[0]!.manifest.layers.flatMap((l) => rawEntries(gunzipSync(blob(untar(one[1].ociTar), l.digest))));
    expect(copied.find((e) => e.name === "app/config/app.conf")).toMatchObject({ uid: 0, gid: 0 });
    // Written by kiln itself, under a 077 umask in that build: still 0644.
    expect(copied.find((e) => e.name === "app/notes.txt")).toMatchObject({ mode: 0o644, uid: 0, gid: 0 });
  });

  it("gzip headers of the layer blobs carry no file name and no time", () => {
    const files = untar(one[0].ociTar);
    for (const l of images(files)[0]!.manifest.layers) {
      expect(l.mediaType).toBe(MediaType.ociLayerGzip);
      // magic, deflate, no flags (so no FNAME), MTIME 0, XFL, OS 3 (unix) — whichever gzip wrote it.
      const head = blob(files, l.digest).subarray(0, 10);
      expect([...head.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]);
      expect(head.readUInt32LE(4)).toBe(0);
      expect(head[9]).toBe(3);
    }
  });

  it("the config's created is the epoch, and no history entry is newer", () => {
    const { config } = images(untar(one[0].ociTar))[0]!;
    expect(config.created).toBe(iso(EPOCH));
    const built = config.history!.filter((h) => h.comment === "buildkit.dockerfile.v0");
    expect(built.map((h) => h.created_by)).toEqual(expect.arrayContaining([expect.stringMatching(/^COPY config\/ /), expect.stringMatching(/^RUN \/bin\/sh -c rm \/bin\/vi/)]));
    for (const h of config.history!) expect(Date.parse(h.created!) / 1000, h.created_by).toBeLessThanOrEqual(EPOCH);
    // The base's own entry keeps its older time: clamped, not rewritten.
    expect(config.history![0]!.created).toBe(iso(BASE_EPOCH));
  });

  // KNOWN GAP, outside this test's files: a metadata step (ENV, LABEL)
  // before the stage's first new layer takes the base image's time (see
  // run-stage.ts, `created = layerStep ? env.now : previous`). BuildKit gives
  // every new entry the epoch. When run-stage.ts uses env.now for every step
  // while SOURCE_DATE_EPOCH is set, this fails: make it a plain `it`.
  it("every history entry the build adds says the epoch (ENV and LABEL right after FROM too)", () => {
    const { config } = images(untar(one[0].ociTar))[0]!;
    const built = config.history!.filter((h) => h.comment === "buildkit.dockerfile.v0");
    expect(built.map((h) => [h.created_by, h.created])).toEqual(built.map((h) => [h.created_by, iso(EPOCH)]));
  });

  it("no host path, host name or temp dir name reaches a layer or the config", () => {
    for (const b of one) {
      const files = untar(b.ociTar);
      const { manifest, configText } = images(files)[0]!;
      const texts = [configText, ...manifest.layers.map((l) => gunzipSync(blob(files, l.digest)).toString("latin1"))];
      const leaks = [b.context, path.dirname(b.context), b.store, path.basename(b.store), b.context.split(path.sep).find((p) => p.startsWith("kiln-repro-ctx"))!, ...(hostname().length >= 6 ? [hostname()] : [])];
      for (const t of texts) for (const leak of leaks) expect(t.includes(leak), leak).toBe(false);
    }
    // RUN ran with BuildKit's fixed host name, not this machine's.
    const files = untar(one[0].ociTar);
    const entries = images(files)[0]!.manifest.layers.flatMap((l) => rawEntries(gunzipSync(blob(files, l.digest))));
    expect(entries.find((e) => e.name === "app/share/built-on")?.body.toString()).toBe("buildkitsandbox\n");
  });
});

describe("reproducible multi-platform builds", () => {
  it("two builds for linux/amd64,linux/arm64 with provenance (mode=max) and SBOMs give the same index digest and the same OCI tar", async () => {
    await requireArm64Emulation();
    // Provenance records each context file's digest, so here the two
    // checkouts hold the same bytes (vendor.tar as committed), as two
    // machines building one commit do; paths, times, owners and umask differ.
    const [a, b] = await buildTwice(["--platform", "linux/amd64,linux/arm64", "--provenance=mode=max", "--sbom=true"], EPOCH, { committedTar: true });
    expect(a.mediaType).toBe(MediaType.ociIndex);
    expect(b.digest).toBe(a.digest);
    expect(b.ociTar.equals(a.ociTar)).toBe(true);
    const files = untar(a.ociTar);
    const imgs = images(files);
    expect(imgs.map((i) => i.config.architecture)).toEqual(["amd64", "arm64"]);
    for (const i of imgs) expect(i.config.created).toBe(iso(EPOCH));
    // The attestations are in the index too (so the equal digests cover
    // them), and their times are the epoch, not the wall clock.
    const index = JSON.parse(blob(files, a.digest).toString()) as ImageIndex;
    const atts = index.manifests.filter((m) => m.platform?.os === "unknown");
    expect(atts).toHaveLength(2);
    for (const att of atts) {
      const m = JSON.parse(blob(files, att.digest).toString()) as ImageManifest;
      const statements = m.layers.map((l) => JSON.parse(blob(files, l.digest).toString()) as { predicateType: string; predicate: Record<string, any> });
      expect(statements.map((st) => st.predicateType)).toEqual(["https://slsa.dev/provenance/v1", "https://spdx.dev/Document"]);
      expect(statements[0]!.predicate.runDetails.metadata.startedOn).toBe(iso(EPOCH));
      expect(statements[1]!.predicate.creationInfo.created.replace(/\.000Z$/, "Z")).toBe(iso(EPOCH).replace(/\.000Z$/, "Z"));
    }
  }, 900_000);
});

describe("--reproducible without SOURCE_DATE_EPOCH", () => {
  let config: ImageConfig;
  beforeAll(async () => {
    // A base imported the ordinary way, created now: newer than epoch 0.
    const store = await storeWithBases([PLATFORM]);
    const b = await buildIn(store, await contextCopy(1), ["--reproducible"], { SOURCE_DATE_EPOCH: undefined }, 0o022);
    config = images(untar(b.ociTar))[0]!.config;
  }, 300_000);

  it("stamps the image created with epoch 0", () => {
    expect(config.created).toBe(iso(0));
    const runs = config.history!.filter((h) => h.created_by?.startsWith("RUN "));
    expect(runs.map((h) => h.created)).toEqual([iso(0)]);
  });

  // KNOWN GAP, outside this test's files: build.ts builds the config with
  // toImageConfig(state, created) and does not pass the epoch, so the base
  // image's history (created now) is not clamped as BuildKit clamps it. When
  // build.ts passes opts.sourceDateEpoch as the third argument, this fails:
  // make it a plain `it`.
  it("clamps every history entry, the base image's too, to epoch 0", () => {
    for (const h of config.history!) expect(h.created, h.created_by).toBe(iso(0));
  });
});

describe("kiln import with SOURCE_DATE_EPOCH", () => {
  it("clamps the tarball's file times: the same tree tarred at two times imports as the same image", async () => {
    const dir = await tempDir("kiln-repro-import-");
    await mkdir(path.join(dir, "tree/etc"), { recursive: true });
    await writeFile(path.join(dir, "tree/etc/motd"), "hi\n");
    const now = Math.floor(Date.now() / 1000);
    const digests: string[] = [];
    for (const [i, when] of [now, now - 3_600].entries()) {
      const tarball = path.join(dir, `t${i}`, "rootfs.tar");
      await mkdir(path.dirname(tarball));
      execFileSync("tar", ["--sort=name", "--numeric-owner", `--mtime=@${when}`, "-cf", tarball, "-C", path.join(dir, "tree"), "."]);
      const r = await kiln(["--root", await tempDir("kiln-repro-store-"), "import", tarball, "base:1"], { SOURCE_DATE_EPOCH: String(EPOCH) });
      expect(r.code, r.stderr).toBe(0);
      digests.push(r.stdout.trim());
    }
    expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests[1]).toBe(digests[0]);
  });
});

describe("toImageConfig with an epoch", () => {
  it("clamps created and every newer history time to the epoch, keeps older ones, and fills in missing ones", () => {
    const state: ImageState = {
      ...emptyState({ os: "linux", architecture: "amd64" }),
      history: [{ created: iso(EPOCH - 5), created_by: "old" }, { created: iso(EPOCH + 5), created_by: "new" }, { created_by: "none" }],
    };
    const c = toImageConfig(state, iso(EPOCH + 99), EPOCH);
    expect(c.created).toBe(iso(EPOCH));
    expect(c.history!.map((h) => [h.created_by, h.created])).toEqual([["old", iso(EPOCH - 5)], ["new", iso(EPOCH)], ["none", iso(EPOCH)]]);
    // Without one, nothing changes.
    expect(toImageConfig(state, iso(EPOCH + 99)).history).toEqual(state.history);
    expect(toImageConfig(state, iso(EPOCH + 99)).created).toBe(iso(EPOCH + 99));
  });
});
