// A tiny token server (docker's token auth spec): GET /token?service=&scope=
// with basic credentials returns an RS256 JWT the registry trusts because
// its x5c certificate is the registry's rootcertbundle. Anonymous callers
// get tokens with no access, so the registry then refuses them.
import { createSign, randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Token requests so far, "user scope1 scope2". */
  readonly issued: string[];
  stop(): Promise<void>;
}

export async function startTokenServer(o: { cert: string; key: string; users: Record<string, string> }): Promise<TokenServer> {
  const service = "kiln-test-registry";
  const issuer = "kiln-test-issuer";
  const key = readFileSync(o.key, "utf8");
  const der = new X509Certificate(readFileSync(o.cert)).raw.toString("base64");
  const issued: string[] = [];
  const b64url = (v: Buffer | string): string => Buffer.from(v).toString("base64url");
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url!, "http://x");
    let user = "";
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const [name, ...rest] = Buffer.from(auth.slice(6), "base64").toString().split(":");
      if (o.users[name!] !== rest.join(":")) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad username or password" }] }));
        return;
      }
      user = name!;
    }
    const scopes = u.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    issued.push(`${user || "<anonymous>"} ${scopes.join(" ")}`.trim());
    const access = user
      ? scopes.map((s) => {
          const [type, name, actions] = [s.slice(0, s.indexOf(":")), s.slice(s.indexOf(":") + 1, s.lastIndexOf(":")), s.slice(s.lastIndexOf(":") + 1)];
          return { type, name, actions: actions.split(",") };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", x5c: [der] };
    const claims = { iss: issuer, sub: user, aud: u.searchParams.get("service") ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign("RSA-SHA256").update(input).sign(key);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    issued,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
