// COPY/ADD and WORKDIR cache keys are the canonical encoding of their
// resolved steps: every field that reaches the filesystem changes the key
// (mutated one by one here), and each kind's encoding is pinned by a golden key.
import { describe, expect, it } from "vitest";
import { COPY_KEY_VERSION, copyKey, WORKDIR_KEY_VERSION, workdirKey, type CopyKeyInput, type WorkdirKeyInput } from "../../src/cache/copy-key.js";
import { resolveCopy, resolveWorkdir, type ResolvedCopy } from "../../src/plan/resolve-copy.js";
import { parseDockerfile } from "../../src/dockerfile/index.js";
import { mutations } from "../helpers/mutations.js";

const point = { chainId: "sha256:6b58b1ebf1b908868285395059223585e192b66b12f2f3e251a947fbc6190907", platform: "linux/amd64", epoch: "" };

const copy: ResolvedCopy = {
  kind: "copy",
  from: "build",
  sources: [
    { kind: "path", pattern: "src/*.c", pivot: 1 },
    { kind: "path", pattern: "README" },
  ],
  heredocs: [{ name: "EOF", content: "hello\n" }],
  dest: "/app/",
  destIsDir: true,
  owner: { kind: "ids", uid: 1000, gid: 1000 },
  mode: { kind: "octal", mode: 0o755 },
  exclude: ["*.o"],
  parents: true,
  link: false,
  createdBy: "COPY --from=build --parents src/./*.c README <<EOF /app/ # buildkit",
};
const copyInput: CopyKeyInput = { ...point, copy, content: ["sha256:aa", "sha256:bb"] };

const add: ResolvedCopy = {
  kind: "add",
  sources: [{ kind: "path", pattern: "app.tar" }],
  heredocs: [],
  dest: "/opt/app",
  destIsDir: false,
  owner: { kind: "names", spec: "app:staff" },
  mode: { kind: "symbolic", spec: "u+x,g-w" },
  exclude: [],
  parents: false,
  link: true,
  unpack: false,
  checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
  keepGitDir: true,
  createdBy: "ADD --link --unpack=false app.tar /opt/app # buildkit",
};
const addInput: CopyKeyInput = { ...point, copy: add, content: ["sha256:cc"] };

const workdirInput: WorkdirKeyInput = { ...point, workdir: { dir: "/app/src", user: "node", createdBy: "WORKDIR src" } };

/** Each mutation of one leaf (except growing `content` alone, which is no step) gives another key. */
function expectEveryFieldKeyed<T>(input: T, key: (i: T) => string, min: number): void {
  const base = key(input);
  const ms = mutations(input).filter((m) => m.path !== "content+");
  expect(ms.length).toBeGreaterThan(min);
  for (const m of ms) expect(key(m.apply(input) as T), m.path).not.toBe(base);
}

describe("COPY/ADD cache key", () => {
  it("golden keys (kiln.cache.copy.v2)", () => {
    expect(COPY_KEY_VERSION).toBe("kiln.cache.copy.v2");
    expect(copyKey(copyInput)).toBe("sha256:2cf17a44922564663d79747daf523cfbf42a03b9263e3d130aeb4cf479198d39");
    expect(copyKey(addInput)).toBe("sha256:d189af9705d7efee74226c49d20d4a048c5a75d4dd81b84dcfc2851d784ddb53");
  });

  it("every field of a resolved COPY changes the key", () => {
    expectEveryFieldKeyed(copyInput, copyKey, 20);
    // Dropping an optional part counts too.
    for (const k of ["from", "owner", "mode"] as const) {
      const { [k]: _dropped, ...rest } = copy;
      expect(copyKey({ ...copyInput, copy: rest }), k).not.toBe(copyKey(copyInput));
    }
  });

  it("every field of a resolved ADD changes the key", () => {
    expectEveryFieldKeyed(addInput, copyKey, 15);
    for (const k of ["unpack", "checksum", "keepGitDir"] as const) {
      const { [k]: _dropped, ...rest } = add;
      expect(copyKey({ ...addInput, copy: rest }), k).not.toBe(copyKey(addInput));
    }
  });

  it("resolution expands every word once: ARG and ENV values reach the resolved step", () => {
    const df = parseDockerfile("FROM scratch\nCOPY --chown=$U:$G --chmod=$M $SRC ${DEST}/\n", "Dockerfile");
    const instr = df.stages[0]!.instructions[0]!;
    if (instr.kind !== "copy") throw new Error("not a COPY");
    const scope = (m: string) => ({ config: { Env: ["DEST=/srv", `M=${m}`], WorkingDir: "/w" }, args: new Map([["U", "10"], ["G", "20"], ["SRC", "a/b"]]) });
    const loc = { file: "Dockerfile", line: 2, text: instr.original };
    const r = resolveCopy(instr, scope("640"), loc);
    expect(r).toMatchObject({ sources: [{ kind: "path", pattern: "a/b" }], dest: "/srv", destIsDir: true, owner: { kind: "ids", uid: 10, gid: 20 }, mode: { kind: "octal", mode: 0o640 } });
    // The same instruction with another ENV value is another step.
    expect(copyKey({ ...point, copy: resolveCopy(instr, scope("600"), loc), content: ["sha256:aa"] })).not.toBe(copyKey({ ...point, copy: r, content: ["sha256:aa"] }));
  });
});

describe("WORKDIR cache key", () => {
  it("golden key (kiln.cache.workdir.v2)", () => {
    expect(WORKDIR_KEY_VERSION).toBe("kiln.cache.workdir.v2");
    expect(workdirKey(workdirInput)).toBe("sha256:42b982bc96c6945d0619db6eca9359e98a89482a9180c174e3218d86c625e233");
  });

  it("every field of a resolved WORKDIR changes the key", () => {
    expectEveryFieldKeyed(workdirInput, workdirKey, 5);
  });

  it("a relative WORKDIR resolves against the previous one", () => {
    const df = parseDockerfile("FROM scratch\nWORKDIR $D/x\n", "Dockerfile");
    const instr = df.stages[0]!.instructions[0]!;
    if (instr.kind !== "workdir") throw new Error("not a WORKDIR");
    expect(resolveWorkdir(instr, { config: { WorkingDir: "/a", User: "1:2" }, args: new Map([["D", "b"]]) })).toEqual({ dir: "/a/b/x", user: "1:2", createdBy: "WORKDIR $D/x" });
  });
});
