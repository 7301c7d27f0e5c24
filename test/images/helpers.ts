// Runs the image commands directly (the same functions main.ts dispatches
// to), so these tests do not depend on the CLI wiring; wiring.test.ts checks
// that `kiln COMMAND` reaches them.
import { Store } from "../../src/store/store.js";
import type { Io } from "../../src/cli/commands.js";
import {
  duCommand,
  historyCommand,
  imageCommand,
  imagesCommand,
  inspectCommand,
  loadCommand,
  rmiCommand,
  saveCommand,
  tagCommand,
} from "../../src/cli/image-commands.js";
import { formatError } from "../../src/cli/errors.js";
import type { CliResult } from "../helpers/kiln.js";

const COMMANDS = { images: imagesCommand, inspect: inspectCommand, history: historyCommand, tag: tagCommand, rmi: rmiCommand, image: imageCommand, du: duCommand, save: saveCommand, load: loadCommand };

export async function run(root: string, cmd: keyof typeof COMMANDS, args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = { out: (s) => (stdout += s), err: (s) => (stderr += s), env: process.env, isTty: false };
  try {
    const code = await COMMANDS[cmd](await Store.open(root), args, io);
    return { code, stdout, stderr };
  } catch (err) {
    stderr += formatError(err);
    const code = (err as { code?: string }).code;
    return { code: code === "USAGE" || code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1, stdout, stderr };
  }
}
