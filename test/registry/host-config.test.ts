// One place for a registry's CA, insecure and http settings — the kiln
// config file, or --tls-ca on the command line — reaching every client: a
// build's pushes AND its registry cache export/import (which ignored
// --tls-ca before), kiln push and kiln pull. Against a real TLS registry
// with a private CA, through node bin/kiln.js.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";
import { type RegistryServer, selfSignedCert, startRegistry } from "./helpers/registry-server.js";

describe("registry CA and settings reach every client", () => {
  const ws = useWorkspace({ busybox: true, context: { Dockerfile: "FROM busybox\nRUN echo cached-step > /f\n" } });
  let reg: RegistryServer;
  let ca: string;
  let xdg: string;
  beforeAll(async () => {
    await requireBuilt("src/cli/registry-options.ts", "src/cache/registry-cache.ts", "src/registry/transport.ts");
    const dir = path.join(ws.work, "tls");
    await mkdir(dir);
    const tls = selfSignedCert(dir);
    ca = tls.cert;
    reg = await startRegistry({ tls });
    xdg = path.join(ws.work, "xdg");
  });
  afterAll(async () => {
    await reg?.stop();
  });
  const run = (script: string, env: NodeJS.ProcessEnv = {}) => shell(script, { XDG_CONFIG_HOME: xdg, KILN_CONFIG: "", ...env });

  it("--tls-ca reaches --cache-to type=registry and --cache-from, not only the push", () => {
    const ref = `${reg.host}/team/cache:tls`;
    const r = run(`kiln --root ${sh(ws.root)} build --progress plain --tls-ca ${sh(ca)} --push -t ${reg.host}/team/app:1 --cache-to type=registry,ref=${ref} ${sh(ws.ctx)}`);
    expect(r.stderr).toContain(`exported cache to ${ref}`);
    expect(r.code).toBe(0);
    // The import reads the cache manifest and records through the same CA.
    const again = run(`kiln --root ${sh(ws.root)} build --progress plain --tls-ca ${sh(ca)} --cache-from type=registry,ref=${ref} ${sh(ws.ctx)}`);
    expect(again.stderr).toContain(`imported cache from ${ref}`);
    expect(again.code).toBe(0);
  });

  it("ca = [FILE] in the config file (relative to it) serves push, pull and the registry cache with no flag", async () => {
    const confDir = path.join(xdg, "kiln");
    await mkdir(confDir, { recursive: true });
    await writeFile(path.join(confDir, "ca.pem"), await import("node:fs/promises").then((f) => f.readFile(ca)));
    // The default location: $XDG_CONFIG_HOME/kiln/config.toml.
    await writeFile(path.join(confDir, "config.toml"), `# kiln registry settings\n[registry."${reg.host}"]\nca = ["ca.pem"]\n`);
    const ref = `${reg.host}/team/cache:config`;
    const b = run(`kiln --root ${sh(ws.root)} build --progress plain --push -t ${reg.host}/team/app:2 --cache-to type=registry,ref=${ref} ${sh(ws.ctx)}`);
    expect(b.stderr).toContain(`exported cache to ${ref}`);
    expect(b.code).toBe(0);
    const p = run(`kiln --root ${sh(path.join(ws.work, "fresh-config"))} pull ${reg.host}/team/app:2`);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`${reg.host}/team/app:2`);
    // Without it the same pull is refused, and the hint names the config setting.
    const refused = run(`kiln --root ${sh(path.join(ws.work, "fresh-none"))} pull ${reg.host}/team/app:2`, { XDG_CONFIG_HOME: path.join(ws.work, "empty") });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot verify the TLS certificate of 127\.0\.0\.1:\d+/);
    expect(refused.stderr).toContain(`ca = ["FILE"] under [registry."${reg.host}"] in the kiln config`);
  });

  it("insecure = true in the config file skips verification for that host only", async () => {
    const cfg = path.join(ws.work, "insecure.toml");
    await writeFile(cfg, `[registry."${reg.host}"]\ninsecure = true\n`);
    const p = run(`kiln --root ${sh(path.join(ws.work, "fresh-insecure"))} pull ${reg.host}/team/app:2`, { KILN_CONFIG: cfg });
    expect(p.code).toBe(0);
  });
});
