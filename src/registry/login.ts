// Check credentials against a registry the way `docker login` does: the
// /v2/ challenge decides; for basic auth /v2/ must accept them, for bearer
// the token server must issue a token for them (no scope needed).
import { KilnError } from "../util/errors.js";
import type { RegistryClient } from "./client.js";

export async function verifyLogin(client: RegistryClient): Promise<void> {
  const c = await client.challenge();
  if (!c) return; // the registry needs no credentials; docker saves them anyway
  const creds = await client.credentials();
  if (c.scheme === "bearer") {
    await client.fetchToken(c, [], creds).catch((e: unknown) => {
      throw loginFailed(client.host, e);
    });
    return;
  }
  const r = await client.send({ method: "GET", path: "/v2/", scopes: [] }).catch((e: unknown) => {
    throw loginFailed(client.host, e);
  });
  await r.body.dump();
}

function loginFailed(host: string, e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === "REGISTRY_UNAUTHORIZED" || code === "REGISTRY_DENIED") {
    return new KilnError("LOGIN_FAILED", `login to ${host} failed: wrong username or password`, { cause: e, hint: "check the credentials and try again" });
  }
  return e;
}
