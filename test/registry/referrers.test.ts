// OCI 1.1 referrers against Debian's docker-registry (distribution 2.8),
// which has no referrers API: pushing with `referrers: true` must keep the
// referrers tag sha256-<hex> itself. skopeo reads what ended up there.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotation, ATTESTATION_MANIFEST, type Descriptor } from "../../src/oci/descriptor.js";
import { MediaType } from "../../src/oci/media-types.js";
import { type PushEvent, pushImage } from "../../src/registry/push.js";
import { listReferrers } from "../../src/registry/referrers.js";
import { Store } from "../../src/store/store.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { type FaultProxy, startFaultProxy } from "./helpers/fault-proxy.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

const env = { DOCKER_CONFIG: "/nonexistent" };
const SIGNATURE = "application/vnd.dev.kiln.test.signature";

interface RawIndex {
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }[];
}

describe("pushing attestation manifests as OCI 1.1 referrers (registry without the referrers API)", () => {
  let reg: RegistryServer;
  let proxy: FaultProxy;
  const ws = useWorkspace({ name: "referrers" });
  let store: Store;
  let image: Descriptor;

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.port);
    store = await Store.open(ws.root);
    image = (await makeTinyImage(store, { label: "referrers" })).manifestDescriptor;
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  const hex = (d: string): string => d.slice("sha256:".length);
  const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const skopeoRaw = (ref: string): Buffer => execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`]);
  const tagIndex = (repo: string): RawIndex => JSON.parse(skopeoRaw(`${reg.host}/${repo}:sha256-${hex(image.digest)}`).toString("utf8")) as RawIndex;
  const tags = (repo: string): string[] =>
    (JSON.parse(execFileSync("skopeo", ["list-tags", "--tls-verify=false", `docker://${reg.host}/${repo}`], { encoding: "utf8" })) as { Tags: string[] }).Tags;

  /** An artifact manifest about `image`: the empty config and one in-toto statement. */
  async function referrerOf(artifactType: string, predicateType: string, annotations?: Record<string, string>): Promise<Descriptor> {
    const empty = await store.writeBlob("{}");
    const statement = await store.writeJson(MediaType.inToto, {
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType,
      subject: [{ name: "tiny", digest: { sha256: hex(image.digest) } }],
      predicate: { builder: { id: "kiln-test" } },
    });
    return store.writeJson(MediaType.ociManifest, {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType,
      config: { mediaType: MediaType.ociEmpty, digest: empty.digest, size: empty.size },
      layers: [{ ...statement, annotations: { [Annotation.inTotoPredicateType]: predicateType } }],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
      ...(annotations ? { annotations } : {}),
    });
  }

  /** The BuildKit layout: the image, then its attestation manifest for platform unknown/unknown. */
  async function tagIndexOf(name: string, referrer: Descriptor): Promise<Descriptor> {
    const idx = await store.writeJson(MediaType.ociIndex, {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        image,
        {
          ...referrer,
          platform: { os: "unknown", architecture: "unknown" },
          annotations: { [Annotation.referenceType]: ATTESTATION_MANIFEST, [Annotation.referenceDigest]: image.digest },
        },
      ],
    });
    await store.tag(name, idx);
    return idx;
  }

  async function push(name: string, dest: string, referrers: boolean, host = reg.host): Promise<PushEvent[]> {
    const events: PushEvent[] = [];
    await pushImage({ store, image: name, ref: `${host}/${dest}`, env, referrers, onEvent: (e) => events.push(e) });
    return events;
  }

  it("the registry under test has no referrers API (so the tag fallback is what runs)", async () => {
    const r = await request(`http://${reg.host}/v2/team/any/referrers/${image.digest}`);
    await r.body.dump();
    expect(r.statusCode).toBe(404);
  });

  it("lists the attestation manifest, with its artifactType and annotations, in the sha256-<hex> tag index", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://slsa.dev/provenance/v0.2", { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" });
    await tagIndexOf("att:1", att);
    const events = await push("att:1", "team/att:1", true);
    expect(events.filter((e) => e.type === "referrer")).toEqual([{ type: "referrer", digest: att.digest, subject: image.digest, result: "tagged" }]);
    const idx = tagIndex("team/att");
    expect(idx.mediaType).toBe(MediaType.ociIndex);
    expect(idx.manifests).toEqual([
      {
        mediaType: MediaType.ociManifest,
        digest: att.digest,
        size: att.size,
        artifactType: MediaType.attestationManifest,
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
      },
    ]);
  });

  it("listReferrers reads them back by digest and by tag, filtered by artifactType", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://spdx.dev/Document");
    await tagIndexOf("att:list", att);
    await push("att:list", "team/list:1", true);
    const byDigest = await listReferrers({ ref: `${reg.host}/team/list@${image.digest}`, env });
    expect(byDigest.map((d) => [d.digest, d.artifactType])).toEqual([[att.digest, MediaType.attestationManifest]]);
    // The image alone under a tag: the tag's manifest is the subject.
    await pushImage({ store, image: image.digest, ref: `${reg.host}/team/list:image`, env });
    expect((await listReferrers({ ref: `${reg.host}/team/list:image`, env })).map((d) => d.digest)).toEqual([att.digest]);
    expect(await listReferrers({ ref: `${reg.host}/team/list@${image.digest}`, artifactType: MediaType.attestationManifest, env })).toHaveLength(1);
    expect(await listReferrers({ ref: `${reg.host}/team/list@${image.digest}`, artifactType: SIGNATURE, env })).toEqual([]);
    // A subject nobody refers to has no tag: an empty list, not an error.
    const other = (await makeTinyImage(store, { label: "no referrers" })).manifestDescriptor;
    expect(await listReferrers({ ref: `${reg.host}/team/list@${other.digest}`, env })).toEqual([]);
  });

  it("pushing again lists the referrer once and writes nothing", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://slsa.dev/provenance/v1");
    await tagIndexOf("att:twice", att);
    await push("att:twice", "team/twice:1", true, proxy.host);
    const first = skopeoRaw(`${reg.host}/team/twice:sha256-${hex(image.digest)}`);
    proxy.resetCounts();
    const events = await push("att:twice", "team/twice:1", true, proxy.host);
    expect(events.filter((e) => e.type === "referrer").map((e) => e.type === "referrer" && e.result)).toEqual(["already-tagged"]);
    expect(proxy.counts.PUT ?? 0).toBe(0);
    expect(tagIndex("team/twice").manifests.map((d) => d.digest)).toEqual([att.digest]);
    expect(sha(skopeoRaw(`${reg.host}/team/twice:sha256-${hex(image.digest)}`))).toBe(sha(first));
  });

  it("a second referrer of the same subject joins the first", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://slsa.dev/provenance/v0.2");
    const sig = await referrerOf(SIGNATURE, "https://example.com/signature/v1");
    await tagIndexOf("att:a", att);
    await tagIndexOf("att:b", sig);
    await push("att:a", "team/both:a", true);
    await push("att:b", "team/both:b", true);
    expect(tagIndex("team/both").manifests.map((d) => [d.digest, d.artifactType])).toEqual([
      [att.digest, MediaType.attestationManifest],
      [sig.digest, SIGNATURE],
    ]);
    const ref = `${reg.host}/team/both@${image.digest}`;
    expect((await listReferrers({ ref, env })).map((d) => d.digest)).toEqual([att.digest, sig.digest]);
    expect((await listReferrers({ ref, artifactType: SIGNATURE, env })).map((d) => d.digest)).toEqual([sig.digest]);
  });

  it("without referrers: true no sha256- tag appears; a later push with it adds one for the manifests already there", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://slsa.dev/provenance/v0.2");
    await tagIndexOf("att:plain", att);
    const events = await push("att:plain", "team/plain:1", false);
    expect(events.some((e) => e.type === "referrer")).toBe(false);
    expect(tags("team/plain")).toEqual(["1"]);
    expect(await listReferrers({ ref: `${reg.host}/team/plain@${image.digest}`, env })).toEqual([]);
    const again = await push("att:plain", "team/plain:1", true);
    expect(again.filter((e) => e.type === "manifest").every((e) => e.type === "manifest" && e.result === "exists")).toBe(true);
    expect(tags("team/plain").sort()).toEqual(["1", `sha256-${hex(image.digest)}`]);
    expect(tagIndex("team/plain").manifests.map((d) => d.digest)).toEqual([att.digest]);
  });

  it("writes the referrers tag after the referrer is uploaded and before the image's tag", async () => {
    const att = await referrerOf(MediaType.attestationManifest, "https://slsa.dev/provenance/v0.2");
    await tagIndexOf("att:order", att);
    const log: string[] = [];
    proxy.decide = (req) => {
      log.push(`${req.method} ${req.url}`);
      return undefined;
    };
    try {
      await push("att:order", "team/order:1", true, proxy.host);
    } finally {
      proxy.decide = () => undefined;
    }
    const at = (line: string): number => log.indexOf(line);
    const referrerPut = at(`PUT /v2/team/order/manifests/${att.digest}`);
    const fallbackPut = at(`PUT /v2/team/order/manifests/sha256-${hex(image.digest)}`);
    const imageTagPut = at("PUT /v2/team/order/manifests/1");
    expect(referrerPut).toBeGreaterThanOrEqual(0);
    expect(fallbackPut).toBeGreaterThan(referrerPut);
    expect(imageTagPut).toBeGreaterThan(fallbackPut);
    // Everything the tag index lists is there, byte for byte.
    for (const d of tagIndex("team/order").manifests) expect(sha(skopeoRaw(`${reg.host}/team/order@${d.digest}`))).toBe(d.digest);
  });
});
