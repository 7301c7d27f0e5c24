import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../src/dockerfile/index.js";
import type { Instruction } from "../../src/dockerfile/index.js";
import { KilnError } from "../../src/util/errors.js";

const REALISTIC = `# syntax=docker/dockerfile:1.7
# check=skip=JSONArgsRecommended
ARG BASE=alpine:3.20 ALPINE_MIRROR
FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"
ENV LEGACY some value here
ARG VERSION=dev
COPY --chown=1000:1000 --chmod=755 go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache \\
    --mount=type=bind,source=.,target=/src \\
    --network=none \\
    go build \\
    # this comment line is dropped
    -o /out/app .
RUN ["/bin/true", "--flag"]
RUN <<EOF
set -e
echo "$VERSION"
EOF

FROM \${BASE}
LABEL org.opencontainers.image.title="my app" version=1
COPY --from=build --link /out/app /usr/local/bin/app
ADD --checksum=sha256:abc https://example.com/x.tar.gz /opt/
ADD ["a b.txt", "c.txt", "/data/"]
COPY --exclude=*.md --exclude=docs --parents src/ /app/
EXPOSE 8080/tcp 9090
VOLUME ["/data", "/cache"]
VOLUME /var/log /tmp
USER app:app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -f http://localhost/ || exit 1
ONBUILD COPY . /app
MAINTAINER someone@example.com
ENTRYPOINT ["/usr/local/bin/app"]
CMD serve --port 80
`;

function kinds(list: Instruction[]): string[] {
  return list.map((i) => i.kind);
}

function parseError(text: string): KilnError {
  try {
    parseDockerfile(text, "ctx/Dockerfile");
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return e as KilnError;
  }
  throw new Error("expected a parse error");
}

describe("parseDockerfile", () => {
  const df = parseDockerfile(REALISTIC);
  const [build, final] = df.stages;

  it("reads directives, meta ARGs and stages", () => {
    expect(df.file).toBe("Dockerfile");
    expect(df.directives).toEqual({ escape: "\\", syntax: "docker/dockerfile:1.7", check: "skip=JSONArgsRecommended" });
    expect(df.metaArgs).toHaveLength(1);
    expect(df.metaArgs[0]?.args).toEqual([{ name: "BASE", default: "alpine:3.20" }, { name: "ALPINE_MIRROR" }]);
    expect(df.stages).toHaveLength(2);
    expect(build?.from).toMatchObject({ kind: "from", image: "golang:1.22", platform: "$BUILDPLATFORM", stageName: "build" });
    expect(build?.name).toBe("build");
    expect(build?.from.location).toEqual({ file: "Dockerfile", line: 4, text: "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build" });
    expect(final?.from.image).toBe("${BASE}");
    expect(final?.name).toBeUndefined();
    expect(final?.index).toBe(1);
  });

  it("types every instruction of the first stage", () => {
    const ins = build?.instructions ?? [];
    expect(kinds(ins)).toEqual(["workdir", "env", "env", "arg", "copy", "run", "run", "run"]);
    expect(ins[0]).toMatchObject({ kind: "workdir", path: "/src" });
    expect(ins[1]).toMatchObject({ pairs: [{ key: "CGO_ENABLED", value: "0" }, { key: "GOFLAGS", value: '"-trimpath -mod=readonly"' }] });
    expect(ins[2]).toMatchObject({ pairs: [{ key: "LEGACY", value: "some value here" }] });
    expect(ins[3]).toMatchObject({ args: [{ name: "VERSION", default: "dev" }] });
    expect(ins[4]).toMatchObject({ kind: "copy", sources: ["go.mod", "go.sum"], dest: "./", chown: "1000:1000", chmod: "755" });
  });

  it("joins continuations, drops comment lines and keeps flags for RUN", () => {
    const run = build?.instructions[5];
    expect(run).toMatchObject({
      kind: "run",
      form: "shell",
      command: "go build     -o /out/app .",
      flags: {
        mounts: [
          { text: "type=cache,target=/root/.cache", fields: [{ key: "type", value: "cache", bare: false }, { key: "target", value: "/root/.cache", bare: false }] },
          { text: "type=bind,source=.,target=/src", fields: [{ key: "type", value: "bind", bare: false }, { key: "source", value: ".", bare: false }, { key: "target", value: "/src", bare: false }] },
        ],
        network: "none",
      },
    });
    expect(run?.location.line).toBe(10);
    expect(run?.original).toContain("RUN --mount=type=cache");
    expect(run?.original).not.toContain("comment");
    expect(build?.instructions[6]).toMatchObject({ kind: "run", form: "exec", args: ["/bin/true", "--flag"], flags: { mounts: [] } });
  });

  it("reads heredocs", () => {
    const run = build?.instructions[7];
    expect(run).toMatchObject({
      kind: "run",
      form: "shell",
      command: "<<EOF",
      heredocs: [{ name: "EOF", content: 'set -e\necho "$VERSION"\n', expand: true, chomp: false }],
    });
    expect(run?.location.line).toBe(17);
  });

  it("types every instruction of the final stage", () => {
    const ins = final?.instructions ?? [];
    expect(kinds(ins)).toEqual([
      "label", "copy", "add", "add", "copy", "expose", "volume", "volume", "user", "shell",
      "stopsignal", "healthcheck", "onbuild", "maintainer", "entrypoint", "cmd",
    ]);
    expect(ins[0]).toMatchObject({ pairs: [{ key: "org.opencontainers.image.title", value: '"my app"' }, { key: "version", value: "1" }] });
    expect(ins[1]).toMatchObject({ kind: "copy", from: "build", link: true, sources: ["/out/app"], dest: "/usr/local/bin/app" });
    expect(ins[2]).toMatchObject({ kind: "add", checksum: "sha256:abc", sources: ["https://example.com/x.tar.gz"], dest: "/opt/" });
    expect(ins[3]).toMatchObject({ kind: "add", sources: ["a b.txt", "c.txt"], dest: "/data/" });
    expect(ins[4]).toMatchObject({ kind: "copy", exclude: ["*.md", "docs"], parents: true, sources: ["src/"], dest: "/app/" });
    expect(ins[5]).toMatchObject({ kind: "expose", ports: ["8080/tcp", "9090"] });
    expect(ins[6]).toMatchObject({ kind: "volume", paths: ["/data", "/cache"] });
    expect(ins[7]).toMatchObject({ kind: "volume", paths: ["/var/log", "/tmp"] });
    expect(ins[8]).toMatchObject({ kind: "user", user: "app:app" });
    expect(ins[9]).toMatchObject({ kind: "shell", shell: ["/bin/bash", "-o", "pipefail", "-c"] });
    expect(ins[10]).toMatchObject({ kind: "stopsignal", signal: "SIGTERM" });
    expect(ins[11]).toMatchObject({
      kind: "healthcheck",
      interval: "30s",
      timeout: "5s",
      retries: 3,
      test: { form: "shell", command: "curl -f http://localhost/ || exit 1" },
    });
    expect(ins[12]).toMatchObject({ kind: "onbuild", expression: "COPY . /app", trigger: { kind: "copy", sources: ["."], dest: "/app" } });
    expect(ins[13]).toMatchObject({ kind: "maintainer", maintainer: "someone@example.com" });
    expect(ins[14]).toMatchObject({ kind: "entrypoint", form: "exec", args: ["/usr/local/bin/app"] });
    expect(ins[15]).toMatchObject({ kind: "cmd", form: "shell", command: "serve --port 80" });
    expect(ins[15]?.location).toEqual({ file: "Dockerfile", line: 38, text: "CMD serve --port 80" });
    expect(ins[15]?.original).toBe("CMD serve --port 80");
  });

  it("treats invalid JSON as shell form for RUN/CMD", () => {
    const d = parseDockerfile("FROM a\nCMD [not json]\n");
    expect(d.stages[0]?.instructions[0]).toMatchObject({ form: "shell", command: "[not json]" });

  });

  it("honours the escape directive", () => {
    const d = parseDockerfile("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\\\nCOPY a `\n  b\n");
    expect(d.directives.escape).toBe("`");
    expect(d.stages[0]?.instructions[0]).toMatchObject({ command: "dir   c:\\\\" });
    expect(d.stages[0]?.instructions[1]).toMatchObject({ sources: ["a"], dest: "b" });
  });

  it("reads chomped, quoted and multiple heredocs", () => {
    const d = parseDockerfile("FROM a\nRUN <<-'X' 3<<Y cat\n\tliteral $V\n\tX\nbody\nY\nCOPY <<A <<B /dest/\na\nA\nb\nB\nRUN echo done\n");
    const [run, copy, last] = d.stages[0]?.instructions ?? [];
    expect(run).toMatchObject({
      heredocs: [
        { name: "X", content: "literal $V\n", expand: false, chomp: true },
        { name: "Y", content: "body\n", expand: true, chomp: false, fileDescriptor: 3 },
      ],
    });
    expect(copy).toMatchObject({ kind: "copy", sources: [], dest: "/dest/", heredocs: [{ name: "A", content: "a\n" }, { name: "B", content: "b\n" }] });
    expect(last).toMatchObject({ kind: "run", command: "echo done" });
    expect(last?.location.line).toBe(12);
    const quoted = parseDockerfile("FROM a\nCOPY --chmod=644 <<'one two' <<  EOF2 /etc/x/\n1\none two\n2\nEOF2\n");
    expect(quoted.stages[0]?.instructions[0]).toMatchObject({
      sources: [],
      dest: "/etc/x/",
      chmod: "644",
      heredocs: [{ name: "one two", content: "1\n", expand: false }, { name: "EOF2", content: "2\n" }],
    });
  });
});

describe("parse errors", () => {
  it("suggests a keyword for an unknown instruction", () => {
    const e = parseError("FROM alpine\nRUNN echo hi\n");
    expect(e.code).toBe("DOCKERFILE_UNKNOWN_INSTRUCTION");
    expect(e.message).toBe('unknown instruction: RUNN');
    expect(e.hint).toBe("did you mean RUN?");
    expect(e.location).toEqual({ file: "ctx/Dockerfile", line: 2, text: "RUNN echo hi" });
    expect(e.format()).toMatch(/^ctx\/Dockerfile:2: unknown instruction: RUNN/);
    expect(parseError("FROM a\nCOPPY a b\n").hint).toBe("did you mean COPY?");
    expect(parseError("FROM a\nXYZZY a b\n").message).toBe('unknown instruction: XYZZY');
  });

  it("rejects instructions before the first FROM other than ARG", () => {
    const e = parseError("ARG A=1\nRUN echo\nFROM a\n");
    expect(e.code).toBe("DOCKERFILE_NO_FROM");
    expect(e.location?.line).toBe(2);
    expect(parseError("# just a comment\n").code).toBe("DOCKERFILE_NO_FROM");
  });

  it("reports missing arguments", () => {
    const e = parseError("FROM a\n\nCOPY onlyone\n");
    expect(e.message).toBe("COPY needs at least a source and a destination");
    expect(e.location?.line).toBe(3);
    expect(parseError("FROM a\nRUN\n").code).toBe("DOCKERFILE_ARGS");
    expect(parseError("FROM a\nENV\n").code).toBe("DOCKERFILE_ARGS");
    expect(parseError("FROM a\nENV ONLYNAME\n").code).toBe("DOCKERFILE_ARGS");
    expect(parseError("FROM a\nENV A=1 B\n").code).toBe("DOCKERFILE_ARGS");
    expect(parseError("FROM\n").code).toBe("DOCKERFILE_ARGS");
    expect(parseError("FROM a AS\n").code).toBe("DOCKERFILE_ARGS");
  });

  it("requires JSON for SHELL", () => {
    const e = parseError("FROM a\nSHELL /bin/sh -c\n");
    expect(e.code).toBe("DOCKERFILE_JSON");
    expect(e.location?.line).toBe(2);
  });

  it("rejects unknown and malformed flags", () => {
    const e = parseError("FROM a\nCOPY --form=build a b\n");
    expect(e.code).toBe("DOCKERFILE_FLAG");
    expect(e.message).toBe("unknown flag: --form (did you mean from?)");
    expect(e.hint).toMatch(/COPY accepts --from/);
    expect(e.location?.line).toBe(2);
    expect(parseError("FROM a\nCOPY --from a b\n").message).toMatch(/missing a value/);
    expect(parseError("FROM a\nADD --from=x a b\n").code).toBe("DOCKERFILE_FLAG");
    expect(parseError("FROM a\nWORKDIR --x=1 /a\n").code).toBe("DOCKERFILE_FLAG");
    expect(parseError("FROM a\nCOPY --link=maybe a b\n").code).toBe("DOCKERFILE_FLAG");
    // As in BuildKit, leading --words are flags for every instruction: use exec form.
    expect(parseError("FROM a\nCMD --help\n").message).toBe("unknown flag: --help");
  });

  it("rejects duplicate stage names and unterminated heredocs", () => {
    expect(parseError("FROM a AS x\nFROM b AS X\n").code).toBe("DOCKERFILE_STAGE");
    expect(parseError("FROM a\nRUN <<EOF\necho\n").code).toBe("DOCKERFILE_HEREDOC");
  });
});
