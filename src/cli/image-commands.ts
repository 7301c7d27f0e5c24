// The docker-style image management commands: images, inspect, history,
// tag, rmi, image prune, du, save, load. Same shape as every command:
// (store, argv, io) -> exit code. In kiln an image lives only as long as a
// name (a ref in index.json) reaches it; removing the last name and
// collecting garbage is what deleting an image means.
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { saveCommand, loadCommand } from "./image-archive-commands.js";
import { historyCommand, imagesCommand, inspectCommand } from "./image-list-commands.js";
import { duCommand, imagePruneCommand, rmiCommand, tagCommand } from "./image-remove-commands.js";

export { duCommand, historyCommand, imagePruneCommand, imagesCommand, inspectCommand, loadCommand, rmiCommand, saveCommand, tagCommand };

const IMAGE_SUBCOMMANDS: Record<string, (store: Store, argv: string[], io: Io) => Promise<number>> = {
  ls: imagesCommand,
  list: imagesCommand,
  inspect: inspectCommand,
  history: historyCommand,
  tag: tagCommand,
  rm: rmiCommand,
  prune: imagePruneCommand,
  save: saveCommand,
  load: loadCommand,
};

export async function imageCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const fn = sub ? IMAGE_SUBCOMMANDS[sub] : undefined;
  if (!fn) throw new KilnError("USAGE", `unknown image command "${sub ?? ""}"`, { hint: `kiln image ${Object.keys(IMAGE_SUBCOMMANDS).join("|")}` });
  return fn(store, rest, io);
}
