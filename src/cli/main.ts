// Entry point: global options, command dispatch, error rendering, exit code.
import { kilnVersion } from "../version.js";
import { Store } from "../store/store.js";
import { recoverInterrupted } from "../store/recover.js";
import { defaultStoreRoot } from "../store/root.js";
import type { Io } from "./commands.js";
import { KilnError } from "../util/errors.js";
import { formatError } from "./errors.js";
import { exitCodeFor, isInterruption } from "./exit-codes.js";
import { COMMANDS, commandUsage, mainUsage } from "./usage.js";

type Handler = (store: Store, argv: string[], io: Io) => Promise<number>;

// Loaded on demand: `kiln --version` or `kiln images` should not pay for the
// builder's or the registry client's modules.
const HANDLERS: Record<string, () => Promise<Handler>> = {
  build: async () => (await import("./commands.js")).buildCommand,
  import: async () => (await import("./commands.js")).importCommand,
  images: async () => (await import("./image-commands.js")).imagesCommand,
  inspect: async () => (await import("./image-commands.js")).inspectCommand,
  history: async () => (await import("./image-commands.js")).historyCommand,
  tag: async () => (await import("./image-commands.js")).tagCommand,
  rmi: async () => (await import("./image-commands.js")).rmiCommand,
  image: async () => (await import("./image-commands.js")).imageCommand,
  du: async () => (await import("./image-commands.js")).duCommand,
  save: async () => (await import("./image-commands.js")).saveCommand,
  load: async () => (await import("./image-commands.js")).loadCommand,
  cache: async () => (await import("./cache-commands.js")).cacheCommand,
  index: async () => (await import("./index-commands.js")).indexCommand,
  imagetools: async () => (await import("./imagetools-commands.js")).imagetoolsCommand,
  attest: async () => (await import("./attest-commands.js")).attestCommand,
  push: async () => (await import("./registry-commands.js")).pushCommand,
  pull: async () => (await import("./registry-commands.js")).pullCommand,
  login: async () => (await import("./registry-commands.js")).loginCommand,
  logout: async () => (await import("./registry-commands.js")).logoutCommand,
};

// Commands that take io.signal into every long operation and stop cleanly
// on it (unmount, remove temp files, name nothing). Any other command is
// short and crash-safe (temp file + rename, refs written last): on a signal
// main stops waiting for it and the process exits at once.
const ABORTABLE = new Set(["build", "import", "load", "save", "pull", "push", "attest", "login", "imagetools"]);

const versionText = kilnVersion;

let defaultIo: Io | undefined;

export async function main(argv: string[], io: Io = (defaultIo = processIo())): Promise<number> {
  let root: string | undefined;
  const mirrors: string[] = [];
  const args = [...argv];
  while (args[0]?.startsWith("-")) {
    const a = args.shift()!;
    if (a === "--version" || a === "-v") {
      io.out(`kiln version ${await versionText()}\n`);
      return 0;
    }
    if (a === "-h" || a === "--help") {
      io.out(mainUsage(await versionText()));
      return 0;
    }
    if (a === "--root") root = args.shift();
    else if (a.startsWith("--root=")) root = a.slice(7);
    else if (a === "--registry-mirror" && args[0] !== undefined) mirrors.push(args.shift()!);
    else if (a.startsWith("--registry-mirror=")) mirrors.push(a.slice(18));
    else {
      io.err(`error: unknown global option ${a}\n`);
      return 2;
    }
  }
  const name = args.shift();
  if (!name || name === "help") {
    const topic = args[0];
    io.out(topic && topic in COMMANDS ? commandUsage(topic) : mainUsage(await versionText()));
    return name ? 0 : 2;
  }
  if (name === "info") {
    if (args.includes("--help") || args.includes("-h")) {
      io.out(commandUsage(name));
      return 0;
    }
    return (await import("./info-command.js")).infoCommand(args, io, root ?? defaultStoreRoot(io.env));
  }
  if (!(name in HANDLERS)) {
    io.err(`error: unknown command "${name}" (kiln --help lists the commands)\n`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.out(commandUsage(name));
    return 0;
  }
  try {
    // Without root, the command runs again in a user namespace (rootless/).
    if (io === defaultIo && process.getuid?.() !== 0) {
      return await (await import("../rootless/user-namespace.js")).runInUserNamespace(argv, io.env);
    }
    const store = await Store.open(root ?? defaultStoreRoot(io.env));
    await recoverInterrupted(store.paths);
    const handler = await HANDLERS[name]!();
    const withMirrors = mirrors.length ? { ...io, registryMirrors: [...(io.registryMirrors ?? []), ...mirrors] } : io;
    const run = handler(store, args, withMirrors);
    return await (ABORTABLE.has(name) || !io.signal ? run : Promise.race([run, rejectOnAbort(io.signal)]));
  } catch (err) {
    // After Ctrl-C, whatever the command failed with (a killed helper, a
    // destroyed stream) is the interruption, and is reported as one.
    if (io.signal?.aborted || isInterruption(err)) {
      io.err(formatError(interruptReason(io.signal)));
      return exitCodeFor(err, io.signal);
    }
    io.err(formatError(err));
    return exitCodeFor(err);
  }
}

function interruptReason(signal: AbortSignal | undefined): KilnError {
  const r: unknown = signal?.reason;
  return r instanceof KilnError ? r : new KilnError("INTERRUPTED", "interrupted");
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(interruptReason(signal));
    signal.addEventListener("abort", () => reject(interruptReason(signal)), { once: true });
  });
}

function processIo(): Io {
  // First signal: stop cleanly (unmount, discard the step). Second: exit now.
  const controller = new AbortController();
  for (const [sig, exitCode] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) process.exit(exitCode);
      process.stderr.write(`\nkiln: ${sig}: stopping (again to force)\n`);
      controller.abort(Object.assign(new KilnError("INTERRUPTED", `interrupted by ${sig}`), { exitCode }));
    });
  }
  return {
    signal: controller.signal,
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    stdout: process.stdout,
    stdin: process.stdin,
    env: process.env,
    isTty: process.stderr.isTTY === true,
    ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
  };
}
