// A registry that is down, silent or hostile ends a command quickly with an
// error that says what was tried, instead of retry loops inside retry loops
// (a refused port cost 125 connects and ~45 s; a silent registry kept
// `kiln pull` waiting for more than 7 minutes), and a 200 MB "manifest" is
// refused after 4 MiB instead of being buffered whole.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { loadArchive } from "../../src/import/load-archive.js";
import { pullImage } from "../../src/registry/pull.js";
import { Store } from "../../src/store/store.js";
import { KilnError } from "../../src/util/errors.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startHugeManifestRegistry, startSilentRegistry, type TestServer } from "./helpers/hostile-servers.js";
import { freePort } from "./helpers/registry-server.js";

const env = { DOCKER_CONFIG: "/nonexistent" };

async function failure(p: Promise<unknown>): Promise<{ error: KilnError; ms: number }> {
  const t0 = Date.now();
  const error = await p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KilnError);
  return { error: error as KilnError, ms: Date.now() - t0 };
}

describe("registry network failures", () => {
  const ws = useWorkspace();
  let silent: TestServer;
  let huge: TestServer;
  beforeAll(async () => {
    silent = await startSilentRegistry();
    huge = await startHugeManifestRegistry(200 * 1024 * 1024);
  });
  afterAll(async () => {
    await silent?.stop();
    await huge?.stop();
  });

  it("connection refused on a loopback port fails in under a second, naming the URL and the single attempt", async () => {
    const port = await freePort();
    const store = await Store.open(ws.root);
    const { error, ms } = await failure(pullImage({ store, ref: `127.0.0.1:${port}/team/app:1`, env }));
    expect(ms).toBeLessThan(1000);
    expect(error.code).toBe("REGISTRY_UNREACHABLE");
    expect(error.message).toContain(`127.0.0.1:${port}/v2/`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toContain("1 attempt");
  });

  it("kiln pull from a refused port: exit 1 and one line saying what failed", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await kiln(["--root", ws.root, "pull", `127.0.0.1:${port}/team/app:1`], env);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: GET 127\\.0\\.0\\.1:${port}/v2/team/app/manifests/1: cannot connect \\(.*ECONNREFUSED.*\\) \\(1 attempt in 0\\.\\d s\\)`));
    expect(r.stderr).not.toMatch(/internal/);
  });

  it("a registry that never answers fails within the configured timeout and deadline (KILN_REGISTRY_TIMEOUT, KILN_REGISTRY_DEADLINE)", async () => {
    const t0 = Date.now();
    const r = await kiln(["--root", ws.root, "pull", `${silent.host}/team/app:1`], { ...env, KILN_REGISTRY_TIMEOUT: "300ms", KILN_REGISTRY_DEADLINE: "1s" });
    const ms = Date.now() - t0;
    expect(r.code).toBe(1);
    // No attempt starts after the 1 s deadline; one that started before it
    // waits its 300 ms at most.
    expect(ms).toBeLessThan(3000);
    expect(r.stderr).toMatch(new RegExp(`error: GET ${silent.host.replace(/\./g, "\\.")}/v2/team/app/manifests/1: no answer in time \\(.*no response headers within 300 ms.*\\) \\(\\d attempts? in \\d\\.\\d s\\)`));
  });

  it("the header timeout is the library's option too (timeouts.headersMs), with the stable code REGISTRY_TIMEOUT", async () => {
    const store = await Store.open(ws.root);
    const { error, ms } = await failure(
      pullImage({ store, ref: `${silent.host}/team/app:1`, env, timeouts: { headersMs: 200 }, retry: { attempts: 2, baseMs: 10, maxMs: 10 } }),
    );
    expect(error.code).toBe("REGISTRY_TIMEOUT");
    expect(error.message).toContain("2 attempts");
    expect(ms).toBeLessThan(3000);
  });

  it("a 200 MB manifest is refused after 4 MiB: clear error, the download stopped, memory stays low", async () => {
    const store = await Store.open(ws.root);
    const rss0 = process.memoryUsage().rss;
    const { error } = await failure(pullImage({ store, ref: `${huge.host}/team/app:1`, env }));
    expect(error.code).toBe("DOCUMENT_TOO_LARGE");
    expect(error.message).toContain(`manifest team/app:1 from ${huge.host} is larger than 4 MiB`);
    // Not retried (the answer would be the same), and the server was cut off
    // shortly after the 4 MiB (what sits in socket buffers on top).
    expect(huge.sent()).toBeLessThan(24 * 1024 * 1024);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
  });

  it("kiln load of an archive whose manifest.json claims 200 MB stops at its header", async () => {
    const store = await Store.open(ws.root);
    let produced = 0;
    // A tar header for manifest.json of 200 MB, then zeros made on demand.
    const header = Buffer.alloc(512);
    header.write("manifest.json", 0);
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(`${(200 * 1024 * 1024).toString(8).padStart(11, "0")}\0`, 124);
    header.write("00000000000\0", 136);
    header.write("0", 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    header.fill(" ", 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    const input = Readable.from(
      (async function* () {
        yield header;
        for (let i = 0; i < 3200; i++) {
          produced += 65536;
          yield Buffer.alloc(65536);
        }
      })(),
    );
    const { error } = await failure(loadArchive({ store, input }));
    expect(error.code).toBe("DOCUMENT_TOO_LARGE");
    expect(error.message).toContain("manifest.json in the archive is larger than 4 MiB");
    expect(produced).toBeLessThan(8 * 1024 * 1024);
  });
});
