// Attestations as a user meets them: `kiln build --push --provenance=mode=max`
// puts an index in a real registry whose attestation manifests skopeo reads
// back in BuildKit's shape; the statements name the pushed image; the
// secret the build used is nowhere in them; `kiln attest` reads them back
// from the store and from the registry.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";
import { haveSchemas, validateOci } from "../helpers/oci-schema.js";
import { startRegistry, type RegistryServer } from "../registry/helpers/registry-server.js";

const SECRET = "s3cr3t-value-7c1f0e9a";
const DOCKERFILE = `FROM busybox:latest
ARG VERSION=1
COPY app.txt /app/app.txt
RUN --mount=type=secret,id=token sh -c 'test "$(cat /run/secrets/token)" != "" && echo "built $VERSION" > /app/built'
`;
const EMPTY_JSON_DIGEST = `sha256:${createHash("sha256").update("{}").digest("hex")}`;

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform: { os: string; architecture: string };
  annotations?: Record<string, string>;
}
interface Statement {
  _type: string;
  predicateType: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicate: Record<string, any>;
}

const sha256File = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const skopeoRaw = (ref: string) => JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));

describe("attestations", () => {
  let root: string;
  let work: string;
  let ctx: string;
  let registry: RegistryServer;
  const blob = async (repo: string, digest: string) => Buffer.from(await (await fetch(`http://${registry.host}/v2/${repo}/blobs/${digest}`)).arrayBuffer());

  beforeAll(async () => {
    root = await storeWithBusybox();
    work = await mkdtemp(path.join(tmpdir(), "kiln-attest-"));
    ctx = path.join(work, "ctx");
    await mkdir(ctx);
    await writeFile(path.join(ctx, "Dockerfile"), DOCKERFILE);
    await writeFile(path.join(ctx, "app.txt"), "app\n");
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  const build = async (...args: string[]) => {
    const r = await kiln(["--root", root, "build", "--progress", "plain", "--secret", "id=token,env=TOK", ...args, ctx], { TOK: SECRET });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  it("--push --provenance=mode=max: an index with a BuildKit-style attestation manifest that skopeo reads back", async () => {
    const ref = `${registry.host}/att/app:1`;
    await build("--push", "--provenance=mode=max", "--build-arg", "VERSION=2", "-t", ref);
    const index = skopeoRaw(ref);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const [image, att] = index.manifests as Entry[];
    expect(index.manifests).toHaveLength(2);
    expect(image!.platform).toEqual({ os: "linux", architecture: "amd64" });
    expect(att!.platform).toEqual({ os: "unknown", architecture: "unknown" });
    expect(att!.annotations).toEqual({ "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": image!.digest });
    // artifactType is on the manifest, not the index entry (see attestation-manifest.ts).
    expect(att!.artifactType).toBeUndefined();

    const manifest = skopeoRaw(`${registry.host}/att/app@${att!.digest}`);
    expect(manifest.artifactType).toBe("application/vnd.docker.attestation.manifest.v1+json");
    expect(manifest.config).toEqual({ mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_JSON_DIGEST, size: 2 });
    expect(manifest.subject).toEqual({ mediaType: image!.mediaType, digest: image!.digest, size: image!.size });
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe("application/vnd.in-toto+json");
    expect(manifest.layers[0].annotations).toEqual({ "in-toto.io/predicate-type": "https://slsa.dev/provenance/v1" });
    if (haveSchemas) {
      expect(validateOci("index", index)).toEqual([]);
      expect(validateOci("manifest", manifest)).toEqual([]);
    } else console.warn("../shared/conformance is absent: OCI schema checks of the attestation manifests not run");

    // skopeo copies the whole index, attestation included, verifying every blob.
    const copied = path.join(work, "copied");
    execFileSync("skopeo", ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", `docker://${ref}`, `oci:${copied}:app`], { stdio: "pipe" });
    const copiedIndex = JSON.parse(await readFile(path.join(copied, "index.json"), "utf8"));
    const top = JSON.parse(await readFile(path.join(copied, "blobs/sha256", copiedIndex.manifests[0].digest.slice(7)), "utf8"));
    expect(top.manifests.map((m: Entry) => m.digest)).toEqual([image!.digest, att!.digest]);

    const st = JSON.parse((await blob("att/app", manifest.layers[0].digest)).toString("utf8")) as Statement;
    expect(st._type).toBe("https://in-toto.io/Statement/v1");
    expect(st.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(st.subject).toEqual([{ name: `pkg:docker/${registry.host.replace(":", "%3A")}/att/app@1?platform=linux%2Famd64`, digest: { sha256: image!.digest.slice(7) } }]);

    const p = st.predicate;
    const dockerfileDigest = createHash("sha256").update(DOCKERFILE).digest("hex");
    expect(p.buildDefinition.externalParameters.configSource).toEqual({ path: "Dockerfile", digest: { sha256: dockerfileDigest } });
    expect(p.buildDefinition.externalParameters.request.args).toMatchObject({ "build-arg:VERSION": "2", platform: "linux/amd64" });
    expect(p.buildDefinition.externalParameters.request.secrets).toEqual([{ id: "token" }]);
    const busybox = (await kiln(["--root", root, "images", "--no-trunc", "--digests", "--format", "{{.Digest}}", "busybox"])).stdout.trim();
    expect(p.buildDefinition.resolvedDependencies).toContainEqual({ uri: "pkg:docker/busybox@latest?platform=linux%2Famd64", digest: { sha256: busybox.slice(7) } });
    expect(p.buildDefinition.resolvedDependencies.find((d: { name?: string }) => d.name === "context")?.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.runDetails.builder.id).toBe("https://kiln.dev/builder");
    expect(p.runDetails.builder.version.kiln).toMatch(/^\d+\.\d+\.\d+/);
    const { startedOn, finishedOn } = p.runDetails.metadata;
    expect(Date.parse(startedOn)).toBeLessThanOrEqual(Date.parse(finishedOn));
    expect(Date.now() - Date.parse(finishedOn)).toBeLessThan(60_000);
    // mode=max: every instruction, with where it is, what it read and what it made.
    const steps = p.buildDefinition.internalParameters.buildConfig.steps as Record<string, any>[];
    expect(steps.map((s) => s.instruction.split(" ")[0])).toEqual(["FROM", "ARG", "COPY", "RUN"]);
    expect(steps.map((s) => s.location.line)).toEqual([1, 2, 3, 4]);
    expect(steps[2]!.materials).toEqual([{ name: "context/app.txt", digest: { sha256: createHash("sha256").update("app\n").digest("hex") } }]);
    const config = JSON.parse((await blob("att/app", skopeoRaw(`${registry.host}/att/app@${image!.digest}`).config.digest)).toString("utf8"));
    expect(steps.filter((s) => s.layer).map((s) => s.layer)).toEqual(config.rootfs.diff_ids.slice(-2));
  });

  it("a secret passed with --secret reaches no attestation, manifest, config or layer", async () => {
    const ref = `${registry.host}/att/secret:1`;
    await build("--push", "--provenance=mode=max", "-t", ref);
    const index = skopeoRaw(ref);
    const seen: string[] = [];
    for (const e of index.manifests as Entry[]) {
      const m = skopeoRaw(`${registry.host}/att/secret@${e.digest}`);
      seen.push(JSON.stringify(m));
      for (const d of [m.config, ...m.layers]) {
        const bytes = await blob("att/secret", d.digest);
        seen.push((d.mediaType.endsWith("gzip") ? gunzipSync(bytes) : bytes).toString("latin1"));
      }
    }
    expect(seen.length).toBeGreaterThan(4);
    // The provenance was among them: it names the secret's id, never its value.
    expect(seen.some((t) => t.includes('"secrets":[{"id":"token"}]'))).toBe(true);
    for (const text of seen) expect(text).not.toContain(SECRET);
    // Nor is it anywhere in the store (cache records, blobs, snapshots).
    const grep = spawnSync("grep", ["-rl", "--", SECRET, root], { encoding: "utf8" });
    expect([grep.status, grep.stdout]).toEqual([1, ""]);
  });

  it("kiln attest ls|show read the statements back, from the store and from the registry", async () => {
    const ref = `${registry.host}/att/show:1`;
    await build("--push", "--provenance=mode=min", "-t", ref);
    const local = await kiln(["--root", root, "attest", "ls", ref]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toMatch(/^PLATFORM\s+TYPE\s+PREDICATE TYPE\s+DIGEST\nlinux\/amd64\s+provenance\s+https:\/\/slsa\.dev\/provenance\/v1\s+sha256:[0-9a-f]{64}\n$/);
    const remote = await kiln(["--root", root, "attest", "ls", "--remote", ref]);
    expect(remote.stdout).toBe(local.stdout);
    const shown = await kiln(["--root", root, "attest", "show", "--type", "provenance", "--remote", ref]);
    expect(shown.code, shown.stderr).toBe(0);
    const st = JSON.parse(shown.stdout) as Statement;
    expect(st.predicateType).toBe("https://slsa.dev/provenance/v1");
    // mode=min: no step list.
    expect(st.predicate.buildDefinition.internalParameters.buildConfig).toBeUndefined();
    const none = await kiln(["--root", root, "attest", "show", "--type", "sbom", ref]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/has no sbom attestation for linux\/amd64.*it has: provenance/s);
  });

  it("--attest-legacy writes BuildKit's older form: a placeholder image config, no subject", async () => {
    const ref = `${registry.host}/att/legacy:1`;
    await build("--push", "--attest", "type=provenance,mode=min", "--attest-legacy", "-t", ref);
    const index = skopeoRaw(ref);
    const att = (index.manifests as Entry[])[1]!;
    expect(att.artifactType).toBeUndefined();
    const m = skopeoRaw(`${registry.host}/att/legacy@${att.digest}`);
    expect(m.subject).toBeUndefined();
    expect(m.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    const config = JSON.parse((await blob("att/legacy", m.config.digest)).toString("utf8"));
    expect(config).toMatchObject({ architecture: "unknown", os: "unknown", rootfs: { type: "layers", diff_ids: [m.layers[0].digest] } });
    expect((await kiln(["--root", root, "attest", "ls", ref])).stdout).toMatch(/provenance/);
  });

  it("--attest-referrers: the attestation is also a referrer of the image (tag schema on a registry without the API)", async () => {
    const ref = `${registry.host}/att/ref:1`;
    await build("--push", "--provenance=mode=min", "--attest-referrers", "-t", ref);
    const [image, att] = skopeoRaw(ref).manifests as Entry[];
    const referrers = skopeoRaw(`${registry.host}/att/ref:sha256-${image!.digest.slice(7)}`);
    expect(referrers.manifests.map((d: Entry) => [d.digest, d.artifactType])).toEqual([[att!.digest, "application/vnd.docker.attestation.manifest.v1+json"]]);
  });

  it("--provenance=false on a push: a plain image, no index", async () => {
    const ref = `${registry.host}/att/plain:1`;
    await build("--push", "--provenance=false", "-t", ref);
    expect(skopeoRaw(ref).mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
  });

  it("--output type=local: provenance.json and sbom.spdx.json beside the files, whose subjects are the exported files", async () => {
    const dest = path.join(work, "local-out");
    await build("--output", `type=local,dest=${dest}`, "--provenance=mode=max", "--sbom=true");
    const prov = JSON.parse(await readFile(path.join(dest, "provenance.json"), "utf8")) as Statement;
    expect(prov.predicateType).toBe("https://slsa.dev/provenance/v1");
    const sbom = JSON.parse(await readFile(path.join(dest, "sbom.spdx.json"), "utf8")) as Statement;
    expect(sbom.predicateType).toBe("https://spdx.dev/Document");
    expect(sbom.subject).toEqual(prov.subject);
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    expect(prov.subject).toContainEqual({ name: "app/app.txt", digest: { sha256: sha("app\n") } });
    expect(prov.subject).toContainEqual({ name: "app/built", digest: { sha256: sha("built 1\n") } });
    expect(prov.subject.find((x) => x.name === "bin/busybox")?.digest.sha256).toBe(sha256File(path.join(dest, "bin/busybox")));
    expect(prov.subject.map((x) => x.name)).toEqual([...prov.subject.map((x) => x.name)].sort());
    expect(JSON.stringify(prov)).not.toContain(SECRET);
  });

  it("bad attestation flags are usage errors that say what to write", async () => {
    const bad = async (...args: string[]) => {
      const r = await kiln(["--root", root, "build", ...args, ctx]);
      expect(r.code).toBe(2);
      return r.stderr;
    };
    expect(await bad("--provenance=mode=full")).toMatch(/mode must be min or max, not "full"/);
    expect(await bad("--attest", "type=slsa")).toMatch(/type must be provenance or sbom/);
    expect(await bad("--sbom=yes")).toMatch(/expected true or false/);
    expect(await bad("--attest-referrers", "-t", "x:1")).toMatch(/--attest-referrers needs attestations/);
    expect(await bad("--provenance=true", "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=/dev/null,oci-mediatypes=false")).toMatch(/attestations need OCI media types/);
  });
});

describe("SBOM of a Debian image built by kiln", () => {
  const DEBIAN = "/var/cache/kiln/debian-bookworm-minbase.tar";
  let root: string;
  let work: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
    work = await mkdtemp(path.join(tmpdir(), "kiln-sbom-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it("lists every dpkg package of the base (as dpkg-query sees them) and the npm lockfile the build copied in", async () => {
    await readFile(DEBIAN).catch(() => {
      throw new Error(`${DEBIAN} is missing: run \`npm run setup\` (it makes it with mmdebstrap)`);
    });
    const imported = await kiln(["--root", root, "import", DEBIAN, "debian:bookworm"]);
    expect(imported.code, imported.stderr).toBe(0);
    const ctx = path.join(work, "ctx");
    await mkdir(ctx);
    await writeFile(path.join(ctx, "Dockerfile"), "FROM debian:bookworm\nCOPY package-lock.json /srv/app/\nRUN rm -rf /usr/share/doc\n");
    await writeFile(
      path.join(ctx, "package-lock.json"),
      JSON.stringify({ name: "app", lockfileVersion: 3, packages: { "": { name: "app" }, "node_modules/left-pad": { version: "1.3.0" }, "node_modules/@types/node": { version: "20.1.0" } } }),
    );
    const r = await kiln(["--root", root, "build", "--progress", "plain", "--sbom=true", "-t", "deb-app:1", ctx]);
    expect(r.code, r.stderr).toBe(0);
    const att = await kiln(["--root", root, "attest", "show", "--type", "sbom", "deb-app:1"]);
    expect(att.code, att.stderr).toBe(0);
    const st = JSON.parse(att.stdout) as Statement;
    expect(st.predicateType).toBe("https://spdx.dev/Document");
    const doc = st.predicate;
    expect(doc.spdxVersion).toBe("SPDX-2.3");
    const purls = new Set<string>(doc.packages.flatMap((p: any) => (p.externalRefs ?? []).map((e: any) => e.referenceLocator)));
    // What dpkg itself says is installed in the base (we did not write dpkg-query).
    const rootfs = path.join(work, "rootfs");
    await mkdir(rootfs);
    execFileSync("tar", ["-xf", DEBIAN, "-C", rootfs, "./var/lib/dpkg/status"]);
    const installed = execFileSync("dpkg-query", [`--admindir=${rootfs}/var/lib/dpkg`, "-W", "-f", "${Package} ${Version} ${Architecture}\n"], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(installed.length).toBeGreaterThan(50);
    for (const line of installed) {
      const [name, version, arch] = line.split(" ");
      const pkg = doc.packages.find((p: any) => p.name === name && p.versionInfo === version);
      expect(pkg, `${name} ${version} missing from the SBOM`).toBeDefined();
      const purl = pkg.externalRefs.find((e: any) => e.referenceType === "purl").referenceLocator as string;
      expect(decodeURIComponent(purl)).toBe(`pkg:deb/debian/${name}@${version}?arch=${arch}&distro=debian-12`);
    }
    expect(purls.has("pkg:npm/left-pad@1.3.0")).toBe(true);
    expect(purls.has("pkg:npm/%40types/node@20.1.0")).toBe(true);
    // The statement's subject is the image that was built.
    const index = JSON.parse((await kiln(["--root", root, "index", "inspect", "--raw", "deb-app:1"])).stdout);
    expect(st.subject[0]!.digest.sha256).toBe(index.manifests[0].digest.slice(7));
  });
});
