// Docker Hub names as docker resolves them (busybox ->
// docker.io/library/busybox:latest), pulled on demand through a docker.io
// mirror set in the kiln config file or with --registry-mirror: a loopback
// registry holding busybox and debian made from Debian packages. Run as a
// user runs kiln: node bin/kiln.js.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useHubMirror } from "../helpers/hub-mirror.js";

describe("docker.io names through a configured mirror", () => {
  const hub = useHubMirror({ debian: true });
  let dir: string;
  let noConfig: string;
  beforeAll(async () => {
    await requireBuilt("src/image/base-image.ts", "src/registry/pull-source.ts", "src/cli/registry-options.ts");
    dir = await mkdtemp(path.join(tmpdir(), "kiln-mirror-"));
    // XDG_CONFIG_HOME with no kiln/config.toml: only what a test passes applies.
    noConfig = path.join(dir, "xdg");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (script: string, env: NodeJS.ProcessEnv = {}) => shell(script, { XDG_CONFIG_HOME: noConfig, KILN_CONFIG: "", ...env });

  async function context(name: string, dockerfile: string): Promise<string> {
    const ctx = path.join(dir, name);
    await rm(ctx, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(ctx, { recursive: true }));
    await writeFile(path.join(ctx, "Dockerfile"), dockerfile);
    return ctx;
  }

  it("FROM busybox (unqualified) pulls docker.io/library/busybox:latest from the mirror in KILN_CONFIG, then RUNs in it", async () => {
    const ctx = await context("bb", "FROM busybox\nRUN echo built-on-busybox > /made\n");
    const root = path.join(dir, "store-bb");
    const r = run(`kiln --root ${sh(root)} build --progress plain -t app:1 ${sh(ctx)} && kiln --root ${sh(root)} images --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}'`, { KILN_CONFIG: hub.config });
    expect(r.stderr).toContain(`pulled busybox:latest (${hub.digests.busyboxAmd64}) from ${hub.registry.host}`);
    expect(r.code).toBe(0);
    // The store names it as docker does, with the digest the mirror served: the index's, of which the amd64 image was pulled.
    expect(r.stdout).toContain(`\nbusybox:latest ${hub.digests.busybox}\n`);
    // A second build finds it in the store: no pull.
    const again = run(`kiln --root ${sh(root)} build --progress plain -t app:2 ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("pulled");
  });

  it("FROM debian:bookworm pulls the Debian image from the mirror; its dpkg works in RUN", async () => {
    const ctx = await context("deb", "FROM debian:bookworm\nRUN cat /etc/debian_version && dpkg-query -W -f '${Package}\\n' dpkg\n");
    const root = path.join(dir, "store-deb");
    const r = run(`kiln --root ${sh(root)} build --progress plain --metadata-file ${sh(path.join(dir, "meta.json"))} ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(r.stderr).toContain(`pulled debian:bookworm (${hub.digests.debian}) from ${hub.registry.host}`);
    expect(r.stderr).toMatch(/#\d+ [\d.]+ 12\.\d+\n/);
    expect(r.stderr).toMatch(/#\d+ [\d.]+ dpkg\n/);
    expect(r.code).toBe(0);
  });

  it("--registry-mirror on the command line (build, and global before pull) works without a config file", async () => {
    const ctx = await context("flag", "FROM busybox:latest\nRUN true\n");
    const root = path.join(dir, "store-flag");
    const b = run(`kiln --root ${sh(root)} build --progress plain --registry-mirror docker.io=${hub.registry.host} ${sh(ctx)}`);
    expect(b.stderr).toContain(`pulled busybox:latest (${hub.digests.busyboxAmd64}) from ${hub.registry.host}`);
    expect(b.code).toBe(0);
    const p = run(`kiln --root ${sh(path.join(dir, "store-pull"))} --registry-mirror docker.io=${hub.registry.host} pull --platform linux/arm64 busybox`);
    expect(p.stdout).toBe(`Digest: ${hub.digests.busybox}\nbusybox:latest\n`);
    expect(p.code).toBe(0);
  });

  it("COPY --from=IMAGE and RUN --mount=from=IMAGE pull unqualified names too", async () => {
    const ctx = await context("from", "FROM scratch AS empty\nFROM busybox\nCOPY --from=busybox /bin/busybox /copied\nRUN --mount=from=busybox:latest,target=/m test -x /m/bin/busybox\n");
    const root = path.join(dir, "store-from");
    const r = run(`kiln --root ${sh(root)} build --progress plain ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(r.stderr).toContain("pulled busybox:latest");
    expect(r.code).toBe(0);
  });

  it("--build-context NAME=docker-image://busybox pulls through the mirror; --pull asks the mirror again though the store has it", async () => {
    const ctx = await context("bctx", "FROM base\nRUN test -x /bin/busybox\n");
    const root = path.join(dir, "store-bctx");
    const r = run(`kiln --root ${sh(root)} build --progress plain --build-context base=docker-image://busybox ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(r.stderr).toContain(`pulled busybox:latest (${hub.digests.busyboxAmd64}) from ${hub.registry.host}`);
    expect(r.code).toBe(0);
    const cached = run(`kiln --root ${sh(root)} build --progress plain --build-context base=docker-image://busybox ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(cached.stderr).not.toContain("pulled");
    const again = run(`kiln --root ${sh(root)} build --progress plain --pull --build-context base=docker-image://busybox ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(again.stderr).toContain(`pulled busybox:latest (${hub.digests.busyboxAmd64}) from ${hub.registry.host}`);
    expect(again.code).toBe(0);
  });

  it("a name the mirror lacks: a clear error saying every host tried, and the store untouched", async () => {
    const ctx = await context("missing", "FROM library/nothere:1\nRUN true\n");
    const root = path.join(dir, "store-missing");
    // hub.config sets upstream = false: the test never reaches Docker Hub itself.
    const r = run(`kiln --root ${sh(root)} build --progress plain ${sh(ctx)}`, { KILN_CONFIG: hub.config });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:1: base image "library\/nothere:1" is not in the local store, and pulling it failed: cannot pull docker\.io\/library\/nothere:1: tried mirror 127\.0\.0\.1:\d+: manifest library\/nothere:1 not found on 127\.0\.0\.1:\d+.* \(not docker\.io itself: upstream = false\)/);
    expect(r.stderr).toContain("docs/registry-config.md");
    expect(r.stderr).not.toMatch(/TypeError|internal/);
    expect(run(`kiln --root ${sh(root)} images -q`).stdout).toBe("");
  });

  it("a Docker Hub name with no mirror where Docker Hub may not be asked says how to set a mirror", async () => {
    const cfg = path.join(dir, "offline.toml");
    await writeFile(cfg, `[registry."docker.io"]\nupstream = false\n`);
    const r = run(`kiln --root ${sh(path.join(dir, "store-hub"))} pull busybox`, { KILN_CONFIG: cfg });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot pull docker.io/library/busybox:latest: ${cfg} sets upstream = false for docker.io and names no mirror for it`);
    expect(r.stderr).toContain("--registry-mirror docker.io=HOST");
  });

  it("a bad config file names the file, the key and what is wrong", async () => {
    const cfg = path.join(dir, "bad.toml");
    await writeFile(cfg, `[registry."docker.io"]\nmirror = ["${hub.registry.host}"]\n`);
    const r = run(`kiln --root ${sh(path.join(dir, "store-bad"))} pull busybox`, { KILN_CONFIG: cfg });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}: registry."docker.io".mirror is not a setting kiln knows (it reads mirrors, upstream, http, insecure, ca)`);
    await writeFile(cfg, `[registry."docker.io"\nmirrors = 1\n`);
    const t = run(`kiln --root ${sh(path.join(dir, "store-bad"))} pull busybox`, { KILN_CONFIG: cfg });
    expect(t.stderr).toMatch(new RegExp(`${cfg.replaceAll(".", "\\.")}:1:\\d+: not valid TOML`));
    const missing = run(`kiln --root ${sh(path.join(dir, "store-bad"))} pull busybox`, { KILN_CONFIG: path.join(dir, "nope.toml") });
    expect(missing.stderr).toMatch(/cannot read the kiln config .*nope\.toml/);
  });
});
