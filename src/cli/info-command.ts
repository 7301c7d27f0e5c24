// `kiln info`: what kiln found on this machine (runtime, overlay mode,
// rootless or not, subordinate ids, emulators, compression, store) and what
// to install for what is missing. Runs in the caller's own namespace, before
// any re-execution, so it can explain why a rootless kiln would not start.
// Exit 1 when something every build needs is missing.
import { probe } from "../rootless/probe.js";
import type { Io } from "./commands.js";

export async function infoCommand(args: readonly string[], io: Io, storeRoot: string): Promise<number> {
  const json = args[0] === "--format" && args[1] === "json";
  if (args.length > 0 && !json) {
    io.err("usage: kiln info [--format json]\n");
    return 2;
  }
  const facts = await probe({ storeRoot, env: io.env });
  if (json) {
    io.out(`${JSON.stringify(facts, null, 2)}\n`);
  } else {
    const w = Math.max(...facts.map((f) => f.name.length)) + 1;
    for (const f of facts) io.out(`${`${f.name}:`.padEnd(w + 1)}${f.value}${f.ok ? "" : `\n${" ".repeat(w + 1)}missing: ${f.fix}`}\n`);
  }
  return facts.some((f) => !f.ok && f.essential) ? 1 : 0;
}
