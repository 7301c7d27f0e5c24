// A real registry for the tests: Debian's docker-registry (distribution
// v2.8) on 127.0.0.1 with its storage in a temp dir, optionally with TLS,
// htpasswd basic auth or token auth.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, request } from "undici";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface RegistryServer {
  readonly host: string; // 127.0.0.1:PORT
  readonly port: number;
  readonly dir: string;
  readonly storage: string;
  stop(): Promise<void>;
}

export interface RegistryConfig {
  readonly tls?: { cert: string; key: string };
  readonly htpasswd?: string; // file
  readonly token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
}

export function requireRegistryBinary(): void {
  if (!existsSync(REGISTRY_BIN)) {
    throw new Error(`${REGISTRY_BIN} is missing: the registry tests need a real registry. Install it with: apt-get install docker-registry`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(cfg: RegistryConfig = {}): Promise<RegistryServer> {
  requireRegistryBinary();
  const dir = await mkdtemp(path.join(tmpdir(), "kiln-registry-"));
  const storage = path.join(dir, "storage");
  const port = await freePort();
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storage}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    ...(cfg.tls ? ["  tls:", `    certificate: ${cfg.tls.cert}`, `    key: ${cfg.tls.key}`] : []),
  ];
  if (cfg.htpasswd) lines.push("auth:", "  htpasswd:", "    realm: kiln-test", `    path: ${cfg.htpasswd}`);
  if (cfg.token) {
    lines.push("auth:", "  token:", `    realm: ${cfg.token.realm}`, `    service: ${cfg.token.service}`, `    issuer: ${cfg.token.issuer}`, `    rootcertbundle: ${cfg.token.rootcertbundle}`);
  }
  const config = path.join(dir, "config.yml");
  await writeFile(config, `${lines.join("\n")}\n`);
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const base = `${cfg.tls ? "https" : "http"}://127.0.0.1:${port}`;
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log}`);
    try {
      const r = await request(`${base}/v2/`, { dispatcher: agent });
      await r.body.dump();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`docker-registry did not start on ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await agent.close();
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    storage,
    async stop() {
      // Killed by a signal, a child keeps exitCode null: check both, so a second stop() returns.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate for 127.0.0.1 (and localhost). */
export function selfSignedCert(dir: string, cn = "127.0.0.1"): { cert: string; key: string } {
  const cert = path.join(dir, `${cn}.crt`);
  const key = path.join(dir, `${cn}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { cert, key };
}

export function htpasswdFile(file: string, user: string, pass: string): Promise<void> {
  return writeFile(file, execFileSync("htpasswd", ["-Bbn", user, pass]));
}
