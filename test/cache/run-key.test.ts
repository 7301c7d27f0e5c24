// A RUN's cache key is the canonical encoding of its resolved step: every
// field that reaches the runtime or the filesystem changes it (mutated one
// by one here), and the encoding is pinned by a golden key.
import { describe, expect, it } from "vitest";
import { RUN_KEY_VERSION, runKey, type RunKeyInput } from "../../src/cache/run-key.js";
import type { ResolvedRun } from "../../src/plan/resolve-run.js";
import { mutations } from "../helpers/mutations.js";

const run: ResolvedRun = {
  args: ["/bin/sh", "-c", "/dev/pipes/EOF"],
  script: { name: "EOF", content: "#!/bin/sh\necho hi\n" },
  env: ["PATH=/bin", "V=1"],
  proxyEnv: ["HTTP_PROXY=http://127.0.0.1:3128"],
  cwd: "/app",
  user: "node",
  network: "none",
  security: "sandbox",
  mounts: [
    { type: "bind", target: "/src", source: "out", from: "build", readonly: true },
    { type: "cache", target: "/c", id: "go", sharing: "locked", mode: 0o755, uid: 1, gid: 2, readonly: false },
    { type: "tmpfs", target: "/t", size: 1024 },
    { type: "secret", target: "/run/secrets/npm", id: "npm", env: "TOKEN", required: true, mode: 0o400, uid: 0, gid: 0 },
  ],
  createdBy: "RUN /bin/sh -c /dev/pipes/EOF # buildkit",
};
const input: RunKeyInput = {
  chainId: "sha256:6b58b1ebf1b908868285395059223585e192b66b12f2f3e251a947fbc6190907",
  platform: "linux/amd64",
  epoch: "",
  run,
  mountContent: ["sha256:aa", "", "", ""],
};

describe("RUN cache key", () => {
  it("golden key (kiln.cache.run.v2)", () => {
    expect(RUN_KEY_VERSION).toBe("kiln.cache.run.v2");
    expect(runKey(input)).toBe("sha256:8efa41bfd753ee42c984a8235aedd3701ed1dc91df68b3fc400747ce1fd3b247");
  });

  it("every field of the resolved step changes the key", () => {
    const base = runKey(input);
    // mountContent has one entry per mount: growing it alone is no step.
    const ms = mutations(input).filter((m) => !m.path.startsWith("run.proxyEnv") && m.path !== "mountContent+");
    expect(ms.length).toBeGreaterThan(40);
    for (const m of ms) {
      expect(runKey(m.apply(input) as RunKeyInput), m.path).not.toBe(base);
    }
    // Dropping an optional part counts too.
    const { script: _s, ...noScript } = run;
    expect(runKey({ ...input, run: noScript })).not.toBe(base);
    // --add-host lines reach the step's /etc/hosts: adding or changing one is another step.
    const hosts = { ...input, run: { ...run, extraHosts: [{ name: "db", ip: "10.0.0.5" }] } };
    expect(runKey(hosts)).not.toBe(base);
    for (const m of mutations(hosts).filter((x) => x.path.startsWith("run.extraHosts"))) expect(runKey(m.apply(hosts) as RunKeyInput), m.path).not.toBe(runKey(hosts));
    // So do --security-opt seccomp=unconfined and the limits (--ulimit, --shm-size, --pids-limit), as BuildKit keys an ExecOp's ulimits.
    expect(runKey({ ...input, run: { ...run, seccomp: false } })).not.toBe(base);
    const limited = { ...input, run: { ...run, limits: { ulimits: [{ name: "nofile", soft: 100, hard: 200 }], shmSizeBytes: 1 << 27, pidsLimit: 50 } } };
    expect(runKey(limited)).not.toBe(base);
    for (const m of mutations(limited).filter((x) => x.path.startsWith("run.limits"))) expect(runKey(m.apply(limited) as RunKeyInput), m.path).not.toBe(runKey(limited));
  });

  it("proxy variables are not part of the key (as BuildKit)", () => {
    expect(runKey({ ...input, run: { ...run, proxyEnv: [] } })).toBe(runKey(input));
  });
});
