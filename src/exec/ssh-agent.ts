// SSH agent forwarding for RUN --mount=type=ssh (`--ssh default` or
// `--ssh ID=SOCKET`): the build's RUN talks to the user's ssh-agent through
// a socket kiln serves for that one RUN, so the agent's own path never
// enters the container and the socket gets the mount's owner and mode.
// Keys never leave the agent: no file, layer, cache key or log holds them.
import { statSync } from "node:fs";
import { chmod, chown } from "node:fs/promises";
import net from "node:net";
import { KilnError } from "../util/errors.js";

export interface SshSource {
  readonly id: string;
  /** The agent's socket on the host. */
  readonly socket: string;
}

/** Parses one `--ssh` value: `default` (= $SSH_AUTH_SOCK), `ID` (same), or `ID=SOCKET[,SOCKET…]` (the first is used). */
export function parseSshFlag(spec: string, env: Readonly<Record<string, string | undefined>>): SshSource {
  const eq = spec.indexOf("=");
  const id = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new KilnError("USAGE", `--ssh ${spec}: "${id}" is not an id`, { hint: "e.g. --ssh default or --ssh github=$SSH_AUTH_SOCK" });
  const socket = eq < 0 ? env.SSH_AUTH_SOCK : spec.slice(eq + 1).split(",")[0]!.trim();
  if (!socket) throw new KilnError("USAGE", `--ssh ${spec}: SSH_AUTH_SOCK is not set`, { hint: "start an agent (eval $(ssh-agent); ssh-add) or pass --ssh ID=/path/to/agent.sock" });
  // Checked before the build, as buildx does: a cached RUN would never find out.
  requireSocket(id, socket);
  return { id, socket };
}

function requireSocket(id: string, socket: string): void {
  if (!statSync(socket, { throwIfNoEntry: false })?.isSocket()) {
    throw new KilnError("SSH_AGENT", `--ssh ${id}: ${socket} is not an ssh-agent socket`, {
      hint: "kiln forwards a running agent: start one (eval $(ssh-agent); ssh-add KEY) and pass --ssh default",
    });
  }
}

/** Serves `listenPath` as a proxy to the agent; close() stops it. */
export async function serveAgentProxy(source: SshSource, listenPath: string, owner: { uid: number; gid: number; mode: number }): Promise<{ close: () => Promise<void> }> {
  requireSocket(source.id, source.socket);
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const agent = net.connect(source.socket);
    conns.add(client).add(agent);
    const drop = () => {
      client.destroy();
      agent.destroy();
      conns.delete(client);
      conns.delete(agent);
    };
    client.on("error", drop).on("close", drop);
    agent.on("error", drop).on("close", drop);
    client.pipe(agent).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(listenPath, resolve));
  await chown(listenPath, owner.uid, owner.gid);
  await chmod(listenPath, owner.mode);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}
