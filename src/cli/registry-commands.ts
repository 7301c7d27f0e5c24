// push, pull, login and logout: argv in, exit code out, like commands.ts.
import { parseFlags } from "./flags.js";
import { hostPlatform, parsePlatform } from "../oci/platform.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { removeCredentials, saveCredentials } from "../registry/credentials.js";
import { clientFor } from "../registry/hosts.js";
import { verifyLogin } from "../registry/login.js";
import { pullImage } from "../registry/pull.js";
import { pushImage } from "../registry/push.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { byteProgress } from "./byte-progress.js";
import { registryAccess, TRANSPORT } from "./registry-options.js";

const short = (d: string): string => d.slice(7, 19);

export async function pushCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "push", args: argv, allowPositionals: true, options: { ...TRANSPORT, quiet: { type: "boolean", short: "q" } } });
  if (positionals.length < 1 || positionals.length > 2) throw new KilnError("USAGE", "kiln push needs IMAGE [DESTINATION]", { hint: "e.g. kiln push 127.0.0.1:5000/app:1" });
  const progress = byteProgress(io.err, { tty: io.isTty, verb: "Pushing" });
  const r = await pushImage({
    ...(await registryAccess(values, io)),
    store,
    image: positionals[0]!,
    ...(positionals[1] ? { ref: positionals[1] } : {}),
    onEvent: values.quiet
      ? undefined
      : (e) => {
          if (e.type === "progress") progress(e.digest, e.bytes, e.size);
          if (e.type === "blob") {
            const text = e.result === "exists" ? "Layer already exists" : e.result === "mounted" ? `Mounted from ${e.from ?? "another repository"}` : "Pushed";
            io.err(`${short(e.digest)}: ${text}\n`);
          }
        },
  });
  const tag = parseReference(r.reference).tag ?? "";
  if (values.quiet) io.out(`${r.digest}\n`);
  else io.out(`${tag ? `${tag}: ` : ""}digest: ${r.digest} size: ${r.size}\n`);
  return 0;
}

export async function pullCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "pull",
    args: argv,
    allowPositionals: true,
    options: { ...TRANSPORT, platform: { type: "string" }, "all-platforms": { type: "boolean" }, quiet: { type: "boolean", short: "q" } },
  });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln pull needs exactly one IMAGE reference", { hint: "e.g. kiln pull 127.0.0.1:5000/team/base:1.2" });
  const progress = byteProgress(io.err, { tty: io.isTty, verb: "Downloading" });
  const r = await pullImage({
    ...(await registryAccess(values, io)),
    store,
    ref: positionals[0]!,
    platform: values.platform ? parsePlatform(values.platform) : hostPlatform(),
    ...(values["all-platforms"] ? { allPlatforms: true } : {}),
    onEvent: values.quiet
      ? undefined
      : (e) => {
          if (e.type === "progress") progress(e.digest, e.bytes, e.size);
          if (e.type === "blob") io.err(`${short(e.digest)}: ${e.status === "exists" ? "Already exists" : "Pull complete"}\n`);
        },
  });
  const name = familiarReference(parseReference(r.reference));
  if (values.quiet) io.out(`${name}\n`);
  else io.out(`Digest: ${r.digest}\n${name}\n`);
  return 0;
}

export async function loginCommand(_store: Store, argv: string[], io: Io & { readonly stdin?: NodeJS.ReadableStream }): Promise<number> {
  const { values, positionals } = parseFlags({ command: "login",
    args: argv,
    allowPositionals: true,
    options: { ...TRANSPORT, username: { type: "string", short: "u" }, password: { type: "string", short: "p" }, "password-stdin": { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln login needs the registry HOST", { hint: "e.g. kiln login -u me --password-stdin 127.0.0.1:5000" });
  if (!values.username) throw new KilnError("USAGE", "kiln login needs -u USERNAME");
  if (values.password !== undefined && values["password-stdin"]) throw new KilnError("USAGE", "--password and --password-stdin are mutually exclusive");
  let password = values.password;
  if (values["password-stdin"]) password = (await readAll(io.stdin ?? process.stdin)).replace(/\r?\n$/, "");
  if (password === undefined) throw new KilnError("USAGE", "kiln login needs --password-stdin or -p PASSWORD");
  if (values.password !== undefined) io.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  const host = normalizeHost(positionals[0]!);
  const client = clientFor(host, { ...(await registryAccess(values, io)), credentials: { username: values.username, password } });
  try {
    await verifyLogin(client);
  } finally {
    await client.close();
  }
  const where = await saveCredentials(host, { username: values.username, password }, io.env);
  io.err(`credentials saved in ${where}\n`);
  io.out("Login Succeeded\n");
  return 0;
}

export async function logoutCommand(_store: Store, argv: string[], io: Io): Promise<number> {
  const { positionals } = parseFlags({ command: "logout", args: argv, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln logout needs the registry HOST");
  const host = normalizeHost(positionals[0]!);
  if (await removeCredentials(host, io.env)) io.out(`Removing login credentials for ${host}\n`);
  else io.out(`Not logged in to ${host}\n`);
  return 0;
}

/** "https://127.0.0.1:5000/" -> "127.0.0.1:5000"; Docker Hub names -> docker.io. */
function normalizeHost(value: string): string {
  const h = value.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return h === "index.docker.io" || h === "registry-1.docker.io" ? "docker.io" : h;
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const c of s) text += typeof c === "string" ? c : Buffer.from(c).toString("utf8");
  return text;
}
