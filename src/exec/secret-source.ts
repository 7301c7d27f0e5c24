// Where a build secret comes from (`--secret id=x,src=FILE|env=VAR`). The
// value is read only when a RUN mounts it, and is written only into a
// private tmp dir bind-mounted into that one container: never into a
// layer, a log, a cache key or the image config.
import { KilnError } from "../util/errors.js";

export type SecretSource =
  | { readonly id: string; readonly kind: "file"; readonly path: string }
  | { readonly id: string; readonly kind: "env"; readonly name: string; readonly value: string };

/** Parses one `--secret` value; `env` lookups come from the caller's environment. */
export function parseSecretFlag(spec: string, env: Readonly<Record<string, string | undefined>>): SecretSource {
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new KilnError("USAGE", `--secret ${spec}: expected key=value fields`, { hint: "e.g. --secret id=npmrc,src=$HOME/.npmrc or --secret id=token,env=TOKEN" });
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const type = fields.get("type") ?? (fields.has("env") ? "env" : "file");
  const src = fields.get("src") ?? fields.get("source");
  const envName = fields.get("env") ?? (type === "env" ? src : undefined);
  const id = fields.get("id") ?? envName ?? (src ? src.split("/").at(-1) : undefined);
  if (!id) throw new KilnError("USAGE", `--secret ${spec}: an id is required`, { hint: "e.g. --secret id=token,env=TOKEN" });
  if (type === "env") {
    if (!envName) throw new KilnError("USAGE", `--secret ${spec}: env=VAR names the variable`);
    const value = env[envName];
    if (value === undefined) throw new KilnError("USAGE", `--secret ${spec}: environment variable ${envName} is not set`);
    return { id, kind: "env", name: envName, value };
  }
  if (type !== "file") throw new KilnError("USAGE", `--secret ${spec}: type must be file or env, not "${type}"`);
  if (!src) throw new KilnError("USAGE", `--secret ${spec}: src=FILE is required`);
  return { id, kind: "file", path: src };
}
