// JSON documents from outside — a `docker save`/OCI archive, an OCI layout
// directory, a registry — that are valid JSON but not what they claim to
// be: each is refused with an error naming the document and the field,
// exit 1, never `internal: TypeError`.
import { createServer, type Server } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileTar } from "../helpers/hostile-tar.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

const EMPTY_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';

describe("hostile image documents", () => {
  const ws = useWorkspace({ name: "hostile-docs" });

  const load = async (name: string, files: Record<string, string>) => {
    const file = path.join(ws.work, `${name}.tar`);
    await writeFile(file, await hostileTar(Object.entries(files).map(([n, content]) => ({ name: n, content }))));
    return kiln(["--root", ws.root, "load", "-i", file]);
  };

  const cases: [string, Record<string, string>, RegExp][] = [
    ["manifest.json of {}", { "manifest.json": "{}" }, /manifest\.json in the archive is not valid: expected an array, got an object/],
    ["manifest.json of null", { "manifest.json": "null" }, /manifest\.json in the archive is not valid: expected an array, got null/],
    ["manifest.json entry without Layers", { "manifest.json": '[{"Config":"c.json"}]' }, /manifest\.json in the archive is not valid: \[0\]\.Layers: missing/],
    ["index.json of []", { "oci-layout": EMPTY_LAYOUT, "index.json": "[]" }, /index\.json in the archive is not valid: expected an object, got an array/],
    ["index.json with a bad digest", { "oci-layout": EMPTY_LAYOUT, "index.json": '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../etc","size":1}]}' }, /index\.json in the archive is not valid: manifests\[0\]\.digest: expected a sha256 digest/],
  ];
  for (const [what, files, want] of cases) {
    it(`kiln load refuses ${what} with a clear error`, async () => {
      const r = await load(what.replace(/\W+/g, "-"), files);
      expect(r.stderr).not.toMatch(/internal/);
      expect(r.stderr).toMatch(want);
      expect(r.code).toBe(1);
    });
  }

  it("kiln load refuses an image config whose rootfs is null", async () => {
    const config = '{"architecture":"amd64","os":"linux","rootfs":null}';
    const r = await load("null-rootfs", { "manifest.json": '[{"Config":"c.json","Layers":[]}]', "c.json": config });
    expect(r.stderr).toMatch(/image config sha256:[0-9a-f]{64} is not valid: rootfs: expected an object, got null/);
    expect(r.code).toBe(1);
  });

  it("an oci-layout:// build context whose index.json is [] is a clear error", async () => {
    const layout = path.join(ws.work, "bad-layout");
    await mkdir(layout, { recursive: true });
    await writeFile(path.join(layout, "oci-layout"), EMPTY_LAYOUT);
    await writeFile(path.join(layout, "index.json"), "[]");
    await writeFile(path.join(ws.ctx, "Dockerfile"), "FROM base\n");
    const r = await kiln(["--root", ws.root, "build", "--build-context", `base=oci-layout://${layout}`, ws.ctx]);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.stderr).toMatch(/bad-layout\/index\.json .* is not valid: expected an object, got an array/);
    expect(r.code).toBe(1);
  });

  describe("from a registry", () => {
    let server: Server;
    let host = "";
    const bodies: Record<string, string> = {
      "/v2/null/manifests/1": "null",
      "/v2/empty/manifests/1": "{}",
      "/v2/list/manifests/1": '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}',
    };
    beforeAll(async () => {
      server = createServer((req, res) => {
        const body = bodies[req.url ?? ""];
        if (req.url === "/v2/" || req.url === "/v2") return res.writeHead(200).end("{}");
        // A bearer challenge whose token server answers `null`.
        if (req.url?.startsWith("/token")) return res.writeHead(200, { "content-type": "application/json" }).end("null");
        if (req.url?.startsWith("/v2/auth/") && !req.headers.authorization) {
          return res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="test"` }).end();
        }
        if (body === undefined) return res.writeHead(404).end();
        const type = body.includes("index") ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json";
        res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(body) }).end(req.method === "HEAD" ? undefined : body);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it("a token server that answers null is a clear error", async () => {
      const r = await kiln(["--root", ws.root, "pull", `${host}/auth/x:1`]);
      expect(r.stderr).not.toMatch(/internal/);
      expect(r.stderr).toMatch(/the token server http:\/\/127\.0\.0\.1:\d+ returned no token/);
      expect(r.code).toBe(1);
    });

    for (const [repo, want] of [
      ["null", /manifest 127\.0\.0\.1:\d+\/null:1@sha256:\w+ is not valid: expected an object, got null/],
      ["empty", /manifest 127\.0\.0\.1:\d+\/empty:1@sha256:\w+ is not valid: schemaVersion: missing/],
      ["list", /image index 127\.0\.0\.1:\d+\/list:1@sha256:\w+ is not valid: manifests: expected an array, got null/],
    ] as const) {
      it(`kiln pull refuses a manifest that is ${repo === "list" ? "an index without manifests" : repo}`, async () => {
        const r = await kiln(["--root", ws.root, "pull", `${host}/${repo}:1`]);
        expect(r.stderr).not.toMatch(/internal/);
        expect(r.stderr).toMatch(want);
        expect(r.code).toBe(1);
      });
    }
  });
});
