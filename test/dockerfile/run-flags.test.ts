// RUN's flags are parsed once into typed values (dockerfile/run-flags.ts),
// with BuildKit's rules and messages, and resolved per step with the
// step's variables.
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../src/dockerfile/parse.js";
import { resolveMount } from "../../src/dockerfile/run-flags.js";
import type { KilnError } from "../../src/util/errors.js";

const runOf = (line: string) => {
  const i = parseDockerfile(`FROM a AS build\nFROM b\n${line}\n`).stages[1]!.instructions[0]!;
  if (i.kind !== "run") throw new Error("not a RUN");
  return i;
};
const errorOf = (line: string): KilnError => {
  try {
    runOf(line);
  } catch (e) {
    return e as KilnError;
  }
  throw new Error(`no error for ${line}`);
};

describe("RUN flags", () => {
  it("mount keys are case-insensitive and aliases fold (FROM=, SRC=, DST=, RO)", () => {
    const run = runOf("RUN --mount=TYPE=bind,FROM=build,SRC=/out,DST=/in,RW true");
    const m = run.flags.mounts[0]!;
    expect(m.from).toBe("build");
    expect(m.fields.map((f) => f.key)).toEqual(["type", "from", "source", "target", "readwrite"]);
    expect(resolveMount(m, () => undefined, "/")).toEqual({ type: "bind", target: "/in", source: "/out", from: "build", readonly: false });
  });

  it("gives BuildKit's errors, with its suggestions, at the RUN line", () => {
    const typ = errorOf("RUN --mount=typ=tmpfs /bin/true");
    expect(typ.message).toContain("unexpected key 'typ' in 'typ=tmpfs' (did you mean type?)");
    expect(typ.location?.line).toBe(3);
    expect(errorOf("RUN --mount=type=tmp /bin/true").message).toContain('unsupported mount type "tmp" (did you mean tmpfs?)');
    expect(errorOf("RUN --mont=target=/x,type=tmpfs /bin/true").message).toBe("unknown flag: --mont (did you mean mount?)");
    expect(errorOf("RUN --mount=from=$stage,target=/x true").message).toContain("'from' doesn't support variable expansion, define alias stage instead");
    expect(errorOf("RUN --mount=type=tmpfs,target=/t,mode=0700 true").message).toContain('mode not allowed for "tmpfs" type mounts');
    expect(errorOf("RUN --mount=type=cache,target=/c,sharing=lock true").message).toContain('unsupported sharing value "lock" (did you mean locked?)');
    expect(errorOf("RUN --mount=type=bind,target=/t,required true").message).toContain("unexpected key 'required' for mount type 'bind'");
    expect(errorOf("RUN --mount=target true").message).toContain("invalid field 'target' must be a key=value pair");
    expect(errorOf("RUN --network=bridge true").message).toBe('unsupported network mode "bridge"');
    expect(errorOf("RUN --security=unsafe true").message).toBe('unsupported security mode "unsafe"');
  });

  it("values expand with the step's variables (not from=); relative targets follow WORKDIR", () => {
    const run = runOf("RUN --mount=type=cache,id=$ID,target=cache,mode=0${MODE},uid=${U} --network=none true");
    expect(run.flags.network).toBe("none");
    const vars = new Map([["ID", "go"], ["MODE", "770"], ["U", "1000"]]);
    expect(resolveMount(run.flags.mounts[0]!, (n) => vars.get(n), "/work")).toEqual({
      type: "cache",
      target: "/work/cache",
      id: "go",
      sharing: "shared",
      mode: 0o770,
      uid: 1000,
      gid: 0,
      readonly: false,
    });
    // A value that is only known at the step is checked there.
    const bad = runOf("RUN --mount=type=$T,target=/x true").flags.mounts[0]!;
    expect(() => resolveMount(bad, () => "tmp", "/")).toThrow(/unsupported mount type "tmp"/);
  });
});

describe("COPY --from", () => {
  it("refuses variable expansion, as BuildKit, at the COPY line", () => {
    let e: KilnError | undefined;
    try {
      parseDockerfile("FROM scratch\nCOPY --from=$FOO . .\n");
    } catch (x) {
      e = x as KilnError;
    }
    expect(e?.message).toBe("variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround");
    expect(e?.location?.line).toBe(2);
    expect(parseDockerfile("FROM scratch AS a\nFROM scratch\nCOPY --from=a . .\n").stages[1]!.instructions[0]).toMatchObject({ from: "a" });
  });
});
