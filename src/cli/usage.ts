// Help text, one entry per command.
export const COMMANDS: Record<string, { usage: string; summary: string; options?: string }> = {
  build: {
    usage: "kiln build [OPTIONS] CONTEXT",
    summary: "Build an image from a Dockerfile",
    options: `  -t, --tag NAME[:TAG]        Name the image in the local store (repeatable)
  -f, --file PATH             Dockerfile (default: CONTEXT/Dockerfile)
      --build-arg KEY=VALUE   Set a build-time variable (repeatable; KEY alone takes it from the environment)
      --target STAGE          Build this stage
      --platform OS/ARCH      Target platform (default: this machine's)
      --network none|host     RUN network (default: none)
      --runtime runc|crun     OCI runtime for RUN (default: runc)
  -o, --output SPEC           type=oci,dest=F[,tar=false] | type=docker,dest=F | type=local,dest=DIR (repeatable)
      --progress MODE         plain | tty | quiet | auto (default: auto)
      --reproducible          Clamp timestamps to SOURCE_DATE_EPOCH (0 when unset)
      --no-cache              Do not use the build cache (results are still recorded)
      --no-cache-filter STAGE Do not use the cache for these stages
      --explain-cache         Say why every step missed the cache
      --secret id=ID,src=FILE|env=VAR
                              Secret for RUN --mount=type=secret (repeatable; never stored in the image)
      --check                 Run the build checks (lint) only, without building
  -q, --quiet                 Print only the image digest`,
  },
  import: {
    usage: "kiln import [--platform OS/ARCH] FILE NAME[:TAG]",
    summary: "Create an image from a root filesystem tarball (plain, gzip or zstd)",
  },
  images: { usage: "kiln images [-q]", summary: "List images in the local store" },
  inspect: { usage: "kiln inspect [--format TEMPLATE] IMAGE...", summary: "Show an image's configuration as JSON" },
  cache: {
    usage: "kiln cache ls | kiln cache prune [--all] [--keep-storage SIZE] [--filter until=DURATION]",
    summary: "List or prune the build cache (unreferenced snapshots and blobs are collected too)",
  },
};

export function mainUsage(version: string): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `kiln ${version}: daemonless OCI image builder

Usage: kiln [--root DIR] COMMAND [OPTIONS]

Commands:
${lines.join("\n")}

Global options:
      --root DIR   Store location (default: $KILN_ROOT, $XDG_DATA_HOME/kiln, ~/.local/share/kiln)
      --version    Print the version
  -h, --help       Show help (kiln COMMAND --help for a command)
`;
}

export function commandUsage(name: string): string {
  const c = COMMANDS[name]!;
  return `Usage: ${c.usage}\n\n${c.summary}\n${c.options ? `\nOptions:\n${c.options}\n` : ""}`;
}
