// Runs kiln's registry commands the way main.ts will once they are wired
// (global --root, error rendering, exit codes), and falls back to main()
// for every other command.
import { Readable } from "node:stream";
import { formatError } from "../../../src/cli/errors.js";
import { loginCommand, logoutCommand, pullCommand, pushCommand } from "../../../src/cli/registry-commands.js";
import { Store } from "../../../src/store/store.js";
import { type CliResult, kiln } from "../../helpers/kiln.js";

const REGISTRY_COMMANDS = { push: pushCommand, pull: pullCommand, login: loginCommand, logout: logoutCommand } as const;

export async function kilnReg(args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<CliResult> {
  const a = [...args];
  let root: string | undefined;
  if (a[0] === "--root") {
    a.shift();
    root = a.shift();
  }
  const name = a[0] as keyof typeof REGISTRY_COMMANDS;
  if (!(name in REGISTRY_COMMANDS)) return kiln(args, env);
  a.shift();
  let stdout = "";
  let stderr = "";
  const io = {
    out: (s: string) => (stdout += s),
    err: (s: string) => (stderr += s),
    env: { ...process.env, ...env },
    isTty: false,
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  };
  try {
    const store = await Store.open(root);
    const code = await REGISTRY_COMMANDS[name](store, a, io);
    return { code, stdout, stderr };
  } catch (err) {
    stderr += formatError(err);
    const code = (err as { code?: string }).code;
    return { code: code === "USAGE" || code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1, stdout, stderr };
  }
}
