// Help text, one entry per command.
export const COMMANDS: Record<string, { usage: string; summary: string; options?: string }> = {
  build: {
    usage: "kiln build [OPTIONS] CONTEXT|-|GIT-URL",
    summary: "Build an image from a Dockerfile",
    options: `  -t, --tag NAME[:TAG]        Name the image in the local store (repeatable)
  -f, --file PATH             Dockerfile (default: CONTEXT/Dockerfile; - reads it from stdin)
      --build-arg KEY=VALUE   Set a build-time variable (repeatable; KEY alone takes it from the environment)
      --target STAGE          Build this stage
      --platform LIST         Target platform(s), e.g. linux/amd64,linux/arm64 (repeatable): one image index (default: this machine's)
      --network MODE          RUN network: default (outbound access, the host's network) | host | none | slirp4netns (own netns, outbound access, no host loopback)
      --add-host NAME:IP      Add a line to RUN's /etc/hosts (repeatable)
      --label KEY=VALUE       Set an image label (repeatable; wins over the Dockerfile's LABEL)
      --annotation [TYPE:]K=V Annotation on the manifest (default), index: or manifest-descriptor: (repeatable)
      --ssh default|ID=SOCKET Forward an ssh-agent to RUN --mount=type=ssh (default: $SSH_AUTH_SOCK)
      --load                  Load the image into docker (docker load, via DOCKER_HOST) after the build
      --rm, --force-rm        Accepted for docker compatibility; no effect
      --runtime runc|crun     OCI runtime for RUN (default: runc)
      --ulimit NAME=SOFT[:HARD]
                              A resource limit for RUN, e.g. nofile=1024:2048 (repeatable; -1: unlimited)
      --shm-size SIZE         Size of RUN's /dev/shm, e.g. 128m (default: 64m)
      --pids-limit N          Most processes/threads a RUN may have at once (default: no limit, as docker's; 0 or -1: none)
      --security-opt seccomp=unconfined
                              Run RUN without Docker's default seccomp profile
      --allow security.insecure
                              Let RUN --security=insecure steps run with every capability, no seccomp, all devices
  -o, --output SPEC           type=oci,dest=F[,tar=false] | type=docker,dest=F | type=local,dest=DIR | type=tar,dest=F (repeatable; dest=- or -o - is stdout)
      --progress MODE         auto | plain | tty | rawjson | quiet (default: auto: tty when stderr is a terminal, else plain)
      --iidfile FILE          Write the image ID (config digest; an index's digest) to FILE
      --metadata-file FILE    Write buildx-style build metadata (containerimage.digest, containerimage.descriptor, image.name) as JSON
      --reproducible          Clamp timestamps to SOURCE_DATE_EPOCH (0 when unset)
      --no-cache              Do not use the build cache (results are still recorded)
      --jobs N                Steps that may run at once across independent stages (default: CPU count)
      --build-context N=V     Named context for FROM N / COPY --from=N: DIR | docker-image://REF | oci-layout://PATH[:TAG]
      --cache-to SPEC         Export the cache: type=local,dest=DIR | type=registry,ref=REF [,mode=min|max][,mounts=true]
      --cache-from SPEC       Import a cache first: type=local,src=DIR | type=registry,ref=REF | REF (repeatable)
      --push                  Push every -t NAME after the build (also: --output type=registry,name=REF)
      --pull                  Pull FROM images even when the store has them
      --insecure-registry H   Allow plain http / unverified TLS for H (repeatable)
      --tls-ca FILE           Trust this CA for registries (repeatable)
      --registry-mirror R=M   Pull registry R's images through mirror M first, e.g. docker.io=127.0.0.1:5000 (repeatable; docs/registry-config.md)
      --no-cache-filter STAGE Do not use the cache for these stages
      --explain-cache         Say why every step missed the cache
      --secret id=ID,src=FILE|env=VAR
                              Secret for RUN --mount=type=secret (repeatable; never stored in the image)
      --check                 Run the build checks (lint) only, without building; exit 1 on any warning
      --provenance V          SLSA provenance: true | false | mode=min|max[,builder-id=URI] (default: mode=min when pushing, else off)
      --sbom true|false       SPDX SBOM of the final filesystem (dpkg, apk, npm, go.mod, pip/poetry)
      --attest SPEC           type=provenance,mode=max | type=sbom | type=…,disabled=true (repeatable, as buildx)
      --attest-legacy         Attestation manifests in BuildKit's older form (placeholder config, no subject)
      --attest-referrers      Also make attestations findable as OCI 1.1 referrers when pushing (tag schema fallback)
  -q, --quiet                 Print only the image ID

RUN is contained as under Docker: its own mount, pid, ipc and uts namespaces,
Docker's default capability set and seccomp profile, masked /proc paths and a
private /dev. The rootfs kiln mounts for a step is nosuid,nodev on the host and
sits in the store, which only its owner can enter (0700).

Examples:
  kiln build -t myapp:1 .
  kiln build --progress plain --iidfile iid.txt --metadata-file meta.json -t myapp:1 .
  kiln build --progress rawjson . 2> events.jsonl
  kiln build -o type=docker,dest=app.tar -t myapp:1 .
  tar -c . | kiln build -t myapp:1 -
  kiln build -t myapp:1 'file:///src/repo.git#main:app'
  kiln build --ssh default -o - . > rootfs.tar
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) kiln build --push --provenance=mode=max --sbom=true -t reg/app:1 .`,
  },
  import: {
    usage: "kiln import [--platform OS/ARCH] FILE NAME[:TAG]",
    summary: "Create an image from a root filesystem tarball (plain, gzip or zstd)",
    options: `Examples:
  kiln import rootfs.tar.gz busybox:latest
  kiln import --platform linux/arm64 rootfs-arm64.tar busybox:arm64`,
  },
  images: {
    usage: "kiln images [OPTIONS] [REPOSITORY[:TAG]]",
    summary: "List images in the local store",
    options: `  -q, --quiet            Only image IDs
      --digests          Show digests
      --no-trunc         Full IDs
  -f, --filter FILTER    reference=GLOB | dangling=true|false | label=KEY[=VALUE] | before=IMAGE | since=IMAGE | until=DURATION (repeatable)
      --format FORMAT    json | table TEMPLATE | TEMPLATE (Go template: {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}} {{.CreatedAt}} {{.Size}})

Examples:
  kiln images --filter reference='myapp*' --filter label=team=web
  kiln images --format '{{.Repository}}:{{.Tag}} {{.Size}}'
  kiln images --format 'table {{.Repository}}\\t{{.ID}}'`,
  },
  inspect: {
    usage: "kiln inspect [--format TEMPLATE|json] IMAGE...",
    summary: "Show images' configuration as JSON",
    options: `  -f, --format FORMAT    json (one line per image) | Go template ({{.Id}}, {{json .Config}}, {{range .RepoTags}}…{{end}}, {{index .Config.Labels "k"}})

Examples:
  kiln inspect --format '{{.Id}}' myapp:1
  kiln inspect --format '{{json .Config.Env}}' myapp:1
  kiln inspect --format '{{range .Config.Env}}{{println .}}{{end}}' myapp:1`,
  },
  history: {
    usage: "kiln history [OPTIONS] IMAGE",
    summary: "Show the steps that made an image, with each layer's size",
    options: `      --no-trunc         Full IDs and commands
  -q, --quiet            Only the image ID
      --wasted           Also bytes wasted per layer (files later layers overwrite or delete), with hints
      --format FORMAT    json | table TEMPLATE | TEMPLATE ({{.ID}} {{.CreatedBy}} {{.Size}} {{.Wasted}} {{.CreatedSince}} {{.Comment}})

Examples:
  kiln history --no-trunc myapp:1
  kiln history --wasted myapp:1`,
  },
  tag: { usage: "kiln tag SOURCE TARGET", summary: "Give an image another name", options: `Examples:
  kiln tag myapp:1 registry.example.com/team/myapp:1` },
  rmi: {
    usage: "kiln rmi [-f] IMAGE...",
    summary: "Remove image names; an image goes (garbage-collected) with its last name",
    options: `  -f, --force            Remove an image given by ID even if several names or other images use it
      --no-prune         Untag only; leave collection to the next prune

Examples:
  kiln rmi myapp:1
  kiln rmi -f 3f2a9c1b0d4e`,
  },
  image: {
    usage: "kiln image ls|inspect|history|tag|rm|prune|save|load ...",
    summary: "Manage images (kiln image prune [-a -f] [--filter until=24h|label=K=V])",
    options: `  prune                  Remove untagged images and collect what no name, cache record or build uses
  prune -a -f            Also remove every named image that matches the filters
      --filter until=24h | label=KEY[=VALUE]

Examples:
  kiln image prune
  kiln image prune -a -f --filter until=168h`,
  },
  info: {
    usage: "kiln info [--format json]",
    summary: "Show what kiln found here (runtime, overlay, rootless, subids, emulators, compression, store) and what to install",
  },
  du: { usage: "kiln du [-v]", summary: "Show the store's disk usage: images, snapshots, build cache" },
  save: {
    usage: "kiln save [-o FILE] [--format docker|oci] IMAGE...",
    summary: "Write images to a tar that docker load, skopeo or kiln load reads (stdout without -o)",
    options: `  -o, --output FILE      The tar to write (default: stdout, unless it is a terminal)
      --format FORMAT    docker (default; also an OCI layout inside) | oci

Examples:
  kiln save -o app.tar myapp:1 myapp:2
  kiln save --format oci -o app-oci.tar myapp:1
  kiln save myapp:1 | gzip > app.tar.gz
  kiln save myapp:1 | kiln --root /other/store load`,
  },
  load: {
    usage: "kiln load [-i FILE] [-q]",
    summary: "Load images from a docker save or OCI layout tar (plain or compressed; stdin without -i)",
    options: `  -i, --input FILE       The tar to read (default: stdin)
  -q, --quiet            Print nothing but untagged image IDs

Examples:
  kiln load -i app.tar
  gunzip -c app.tar.gz | kiln load`,
  },
  push: {
    usage: "kiln push [OPTIONS] IMAGE [REGISTRY/REPO[:TAG]]",
    summary: "Push an image to a registry",
    options: `  -q, --quiet                    Print only the pushed digest
      --tls-ca FILE              Trust this CA (repeatable)
      --certs-dir DIR            certs.d-style directory: DIR/HOST[:PORT]/*.crt, client.cert, client.key (repeatable)
      --insecure-registry HOST   Allow plain http / unverified TLS for HOST (repeatable; also $KILN_INSECURE_REGISTRIES)
Registry settings (mirrors, CA files, http/insecure hosts) also come from $KILN_CONFIG or ~/.config/kiln/config.toml (docs/registry-config.md).`,
  },
  pull: {
    usage: "kiln pull [OPTIONS] NAME[:TAG|@DIGEST]",
    summary: "Pull an image from a registry",
    options: `      --platform OS/ARCH[/VARIANT]  Platform to pick from a multi-platform image (default: this machine's)
      --all-platforms            Fetch every image and attestation of an index, and name the index
  -q, --quiet                    Print only the image name
      --registry-mirror R=M      Try mirror M for registry R first (docker.io=127.0.0.1:5000; repeatable)
      --tls-ca FILE / --certs-dir DIR / --insecure-registry HOST   as for push`,
  },
  login: { usage: "kiln login -u USER (--password-stdin | -p PASSWORD) HOST", summary: "Log in to a registry (saved in $DOCKER_CONFIG/config.json like docker)" },
  logout: { usage: "kiln logout HOST", summary: "Remove saved credentials for a registry" },
  index: {
    usage: "kiln index create [-t REPO:TAG]... [--dry-run] SOURCE... | kiln index inspect [--raw] NAME",
    summary: "Merge single-platform images into one multi-platform image index, or show one",
  },
  imagetools: {
    usage: "kiln imagetools create -t REPO:TAG [--dry-run] SOURCE... | kiln imagetools inspect [--raw] REF",
    summary: "Make a multi-platform index on a registry from pushed images (manifests only), or show a remote image",
  },
  attest: {
    usage: "kiln attest ls [--remote] IMAGE | kiln attest show [--type provenance|sbom|URI] [--platform P] [--remote] IMAGE",
    summary: "List or print an image's provenance and SBOM attestations (store or registry)",
  },
  cache: {
    usage: "kiln cache ls | kiln cache prune [--all] [--keep-storage SIZE] [--filter until=DURATION]",
    summary: "List or prune the build cache (unreferenced snapshots and blobs are collected too)",
  },
};

export function mainUsage(version: string): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `kiln ${version}: daemonless OCI image builder

Usage: kiln [--root DIR] [--registry-mirror R=M] COMMAND [OPTIONS]

Commands:
${lines.join("\n")}

Global options:
      --root DIR   Store location (default: $KILN_ROOT, $XDG_DATA_HOME/kiln, ~/.local/share/kiln)
      --registry-mirror R=M
                   Pull registry R's images (docker.io for bare names) through mirror M first (repeatable)

Registry settings (mirrors, CA files, http/insecure hosts) come from $KILN_CONFIG,
else ~/.config/kiln/config.toml (BuildKit's buildkitd.toml form; docs/registry-config.md).
      --version    Print the version
  -h, --help       Show help (kiln COMMAND --help for a command)

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C)
`;
}

export function commandUsage(name: string): string {
  const c = COMMANDS[name]!;
  // A command without options has only examples: no empty "Options:" header.
  const body = c.options ? `\n${c.options.startsWith("Examples:") ? "" : "Options:\n"}${c.options}\n` : "";
  return `Usage: ${c.usage}\n\n${c.summary}\n${body}`;
}
