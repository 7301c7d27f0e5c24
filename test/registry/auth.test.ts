// Authentication against real registries: TLS with htpasswd basic auth,
// and bearer tokens from a token server the registry trusts; credentials
// from the docker config file (login/logout) and from a credential helper.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kilnReg as kiln } from "./helpers/cli.js";
import { htpasswdFile, type RegistryServer, selfSignedCert, startRegistry } from "./helpers/registry-server.js";
import { startTokenServer, type TokenServer } from "./helpers/token-server.js";
import { useWorkspace } from "../helpers/workspace.js";

const ws = useWorkspace({ busybox: true, name: "auth" });

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("TLS + htpasswd basic auth", () => {
  let reg: RegistryServer;
  let tls: { cert: string; key: string };
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const dir = path.join(ws.work, "tls");
    await mkdir(dir);
    tls = selfSignedCert(dir);
    await htpasswdFile(path.join(dir, "htpasswd"), "alice", "s3cret");
    reg = await startRegistry({ tls, htpasswd: path.join(dir, "htpasswd") });
    env = { DOCKER_CONFIG: path.join(ws.work, "docker-basic") };
  });
  afterAll(async () => reg?.stop());

  it("refuses an unknown certificate with a hint, and trusts --tls-ca", async () => {
    const r = await kiln(["--root", ws.root, "push", "busybox:latest", `${reg.host}/x/bb:1`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot verify the TLS certificate of 127\.0\.0\.1:\d+.*--tls-ca/);
  });

  it("without credentials: 401 says to run kiln login", async () => {
    const r = await kiln(["--root", ws.root, "push", "--tls-ca", tls.cert, "busybox:latest", `${reg.host}/x/bb:1`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no credentials for ${reg.host}`);
    expect(r.stderr).toContain(`run \`kiln login ${reg.host}\``);
  });

  it("login rejects a wrong password and saves a right one like docker", async () => {
    const bad = await kiln(["login", "--tls-ca", tls.cert, "-u", "alice", "--password-stdin", reg.host], env, "wrong\n");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/login to 127\.0\.0\.1:\d+ failed/);
    const ok = await kiln(["login", "--tls-ca", tls.cert, "-u", "alice", "--password-stdin", reg.host], env, "s3cret\n");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("Login Succeeded");
    const cfg = JSON.parse(await readFile(path.join(env.DOCKER_CONFIG!, "config.json"), "utf8"));
    expect(cfg.auths[reg.host].auth).toBe(Buffer.from("alice:s3cret").toString("base64"));
  });

  it("pushes and pulls with the saved credentials; skopeo agrees on the digest", async () => {
    const p = await kiln(["--root", ws.root, "push", "--tls-ca", tls.cert, "busybox:latest", `${reg.host}/x/bb:1`], env);
    expect(p.code, p.stderr).toBe(0);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1]!;
    const raw = execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", "alice:s3cret", `docker://${reg.host}/x/bb:1`]);
    expect(sha(raw)).toBe(digest);
    const empty = await mkdtemp(path.join(tmpdir(), "kiln-empty-"));
    try {
      const r = await kiln(["--root", empty, "pull", "--tls-ca", tls.cert, `${reg.host}/x/bb:1`], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(digest);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("a certs.d-style directory works like --tls-ca", async () => {
    const certs = path.join(ws.work, "certs.d");
    await mkdir(path.join(certs, reg.host), { recursive: true });
    await writeFile(path.join(certs, reg.host, "ca.crt"), await readFile(tls.cert));
    const r = await kiln(["--root", ws.root, "push", "--certs-dir", certs, "busybox:latest", `${reg.host}/x/bb:2`], env);
    expect(r.code, r.stderr).toBe(0);
  });

  it("logout removes the credentials", async () => {
    const r = await kiln(["logout", reg.host], env);
    expect(r.stdout).toContain(`Removing login credentials for ${reg.host}`);
    const cfg = JSON.parse(await readFile(path.join(env.DOCKER_CONFIG!, "config.json"), "utf8"));
    expect(cfg.auths[reg.host]).toBeUndefined();
    const again = await kiln(["--root", ws.root, "pull", "--tls-ca", tls.cert, `${reg.host}/x/bb:1`], env);
    expect(again.stderr).toContain("kiln login");
  });
});

describe("bearer token auth", () => {
  let reg: RegistryServer;
  let tokens: TokenServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const dir = path.join(ws.work, "token");
    await mkdir(dir);
    const signer = selfSignedCert(dir, "kiln-token-signer");
    tokens = await startTokenServer({ ...signer, users: { bob: "hunter2" } });
    reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: signer.cert } });
    env = { DOCKER_CONFIG: path.join(ws.work, "docker-token") };
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  it("anonymous push is refused with the login hint", async () => {
    const r = await kiln(["--root", ws.root, "push", "busybox:latest", `${reg.host}/team/bb:1`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run \`kiln login ${reg.host}\``);
  });

  it("login, push and pull; one token per scope set, reused across requests", async () => {
    const l = await kiln(["login", "-u", "bob", "-p", "hunter2", reg.host], env);
    expect(l.code, l.stderr).toBe(0);
    tokens.issued.length = 0;
    const p = await kiln(["--root", ws.root, "push", "busybox:latest", `${reg.host}/team/bb:1`], env);
    expect(p.code, p.stderr).toBe(0);
    expect(tokens.issued).toEqual([`bob repository:team/bb:pull,push`]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(p.stdout)![1]!;
    // Asynchronously: the token server skopeo asks lives in this process.
    const { stdout: raw } = await promisify(execFile)("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", "bob:hunter2", `docker://${reg.host}/team/bb:1`], { encoding: "buffer" });
    expect(sha(raw)).toBe(digest);
    const empty = await mkdtemp(path.join(tmpdir(), "kiln-empty-"));
    try {
      const r = await kiln(["--root", empty, "pull", `${reg.host}/team/bb:1`], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(digest);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("takes credentials from a credHelpers program", async () => {
    const bin = path.join(ws.work, "bin");
    await mkdir(bin, { recursive: true });
    const helper = path.join(bin, "docker-credential-kilntest");
    await writeFile(helper, `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\necho '{"ServerURL":"'"$server"'","Username":"bob","Secret":"hunter2"}'\n`);
    await chmod(helper, 0o755);
    const cfgDir = path.join(ws.work, "docker-helper");
    await mkdir(cfgDir, { recursive: true });
    await writeFile(path.join(cfgDir, "config.json"), JSON.stringify({ credHelpers: { [reg.host]: "kilntest" } }));
    const r = await kiln(["--root", ws.root, "push", "busybox:latest", `${reg.host}/team/bb:helper`], { DOCKER_CONFIG: cfgDir, PATH: `${bin}:${process.env.PATH}` });
    expect(r.code, r.stderr).toBe(0);
  });
});
