// Registry names as users write them vs. the host the API lives on.
import { type ClientOptions, RegistryClient } from "./client.js";

/** docker.io is a name; its API is served by registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

export function clientFor(registry: string, opts: ClientOptions = {}): RegistryClient {
  return new RegistryClient(apiHost(registry), opts);
}
