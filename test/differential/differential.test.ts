// Differential tier: every Dockerfile of testdata/differential/ is built by
// kiln and by a real BuildKit (Debian's docker.io dockerd, started here on
// its own socket with no bridge and no iptables; `DOCKER_BUILDKIT=1 docker
// build --network=host`), from the same base images (busybox from Debian's
// busybox-static and the Debian minbase tarball setup makes, imported into
// kiln and loaded into dockerd from kiln's save), and the two images'
// root filesystems and configs are compared field by field (compare.ts says
// what is normalised and why). One dockerd serves every case; the light cases
// build a few at a time while the heavy ones (apt, npm) build one after the
// other, each Dockerfile with kiln and BuildKit at once.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/kiln.js";
import { configDifferences, treeDifferences } from "./compare.js";
import { readSavedImage } from "./image-tree.js";

const DOCKER = "/usr/bin/docker"; // Debian's 20.10 client, matching its dockerd
const MINBASE = "/var/cache/kiln/debian-bookworm-minbase.tar";
const CORPUS = path.join(REPO, "testdata/differential");

interface CaseSpec {
  build_args?: Record<string, string>;
  target?: string;
  /** apt/npm downloads: built one at a time. */
  heavy?: boolean;
  /** Secrets for RUN --mount=type=secret: id → host file, passed to both builders when the file exists. */
  secrets?: Record<string, string>;
}

/**
 * A difference the case documents instead of failing on (expected-differences.json
 * beside the Dockerfile): where dockerd 20.10's BuildKit is older than the current
 * Dockerfile reference and BuildKit, kiln follows the current ones. `difference` is
 * the harness's line, exactly; one that no longer shows up fails the case too, so
 * the list cannot go stale.
 */
interface ExpectedDifference {
  difference: string;
  reason: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", (e) => resolve({ code: 127, out: String(e) }));
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

async function must(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.out.slice(-2000)}`);
  return r.out;
}

/** Runs `jobs` at most `limit` at a time. */
function pool<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: Promise<T>[] = [];
  let active = 0;
  const queue = [...jobs.entries()];
  return new Promise((resolveAll) => {
    const next = () => {
      if (queue.length === 0 && active === 0) return resolveAll(Promise.all(results));
      while (active < limit && queue.length > 0) {
        const [i, job] = queue.shift()!;
        active++;
        results[i] = job().finally(() => {
          active--;
          next();
        });
      }
    };
    next();
  });
}

describe("differential: kiln and BuildKit build the same images", () => {
  // KILN_DIFF_CASES=REGEXP builds only the matching cases (while working on one).
  const only = new RegExp(process.env.KILN_DIFF_CASES ?? "");
  const names = readdirSync(CORPUS).filter((n) => existsSync(path.join(CORPUS, n, "Dockerfile")) && only.test(n)).sort();
  const readJson = <T,>(n: string, file: string, none: T): T => (existsSync(path.join(CORPUS, n, file)) ? (JSON.parse(readFileSync(path.join(CORPUS, n, file), "utf8")) as T) : none);
  const specs = new Map(names.map((n) => [n, readJson<CaseSpec>(n, "case.json", {})]));
  const work = mkdtempSync("/var/tmp/kiln-diff-");
  const root = path.join(work, "store");
  const sock = path.join(work, "docker.sock");
  const denv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: "1" };
  const kilnBin = path.join(REPO, "bin/kiln.js");
  let dockerd: ReturnType<typeof spawn> | undefined;
  const outcomes = new Map<string, Promise<string[]>>();

  /** Builds one case with both builders at once and returns the differences. */
  async function compareCase(name: string): Promise<string[]> {
    const spec = specs.get(name)!;
    const ctx = path.join(CORPUS, name);
    const tag = `kiln-diff/${name}:latest`;
    const extra = [
      ...Object.entries(spec.build_args ?? {}).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
      ...(spec.target ? ["--target", spec.target] : []),
      ...Object.entries(spec.secrets ?? {}).filter(([, src]) => existsSync(src)).flatMap(([id, src]) => ["--secret", `id=${id},src=${src}`]),
    ];
    const kTar = path.join(work, `${name}.kiln.tar`);
    const bTar = path.join(work, `${name}.buildkit.tar`);
    const [k, b] = await Promise.all([
      run("node", [kilnBin, "--root", root, "build", "--progress", "plain", "--network", "host", "-t", tag, "--output", `type=docker,dest=${kTar}`, ...extra, ctx]),
      run(DOCKER, ["build", "--progress", "plain", "--network=host", "-t", tag, ...extra, ctx], denv).then(async (r) =>
        r.code === 0 ? { code: (await run(DOCKER, ["save", "-o", bTar, tag], denv)).code, out: r.out } : r,
      ),
    ]);
    if (b.code !== 0) return [`BuildKit failed: ${b.out.slice(-1500)}`];
    if (k.code !== 0) return [`kiln failed: ${k.out.slice(-1500)}`];
    const [ki, bi] = await Promise.all([readSavedImage(kTar), readSavedImage(bTar)]);
    await Promise.all([rm(kTar, { force: true }), rm(bTar, { force: true })]);
    return [...configDifferences(ki, bi), ...treeDifferences(ki, bi)];
  }

  beforeAll(async () => {
    for (const need of ["/usr/sbin/dockerd", DOCKER, MINBASE]) {
      if (!existsSync(need)) throw new Error(`${need} is missing: run scripts/setup.sh (docker.io, the Debian minbase tarball)`);
    }
    dockerd = spawn("dockerd", ["--bridge=none", "--iptables=false", "--ip6tables=false", "--data-root", path.join(work, "docker"), "--exec-root", path.join(work, "exec"), "--pidfile", path.join(work, "dockerd.pid"), "-H", `unix://${sock}`], { stdio: "ignore" });
    const bb = path.join(work, "busybox.tar.gz");
    await must("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), bb]);
    await must("node", [kilnBin, "--root", root, "import", bb, "busybox:latest"]);
    await must("node", [kilnBin, "--root", root, "import", MINBASE, "debian:bookworm"]);
    const bases = path.join(work, "bases.tar");
    await must("node", [kilnBin, "--root", root, "save", "-o", bases, "busybox:latest", "debian:bookworm"]);
    for (let i = 0; (await run(DOCKER, ["version"], denv)).code !== 0; i++) {
      if (i > 150) throw new Error("dockerd did not start");
      await new Promise((r) => setTimeout(r, 200));
    }
    await must(DOCKER, ["load", "-i", bases], denv);
    await rm(bases, { force: true });
    // Light cases a few at a time; the heavy ones (downloads) one after the other beside them.
    const light = names.filter((n) => !specs.get(n)!.heavy);
    const heavy = names.filter((n) => specs.get(n)!.heavy);
    const gates = new Map<string, (v: string[]) => void>();
    for (const n of names) outcomes.set(n, new Promise((r) => gates.set(n, r)));
    const settle = (n: string) => () =>
      compareCase(n).then(
        (d) => gates.get(n)!(d),
        (e: unknown) => gates.get(n)!([`harness error: ${String(e)}`]),
      );
    void pool(1, heavy.map(settle));
    void pool(2, light.map(settle));
  }, 5 * 60_000);

  afterAll(async () => {
    await Promise.allSettled(outcomes.values());
    if (dockerd) {
      const d = dockerd;
      d.kill("SIGTERM");
      await new Promise((r) => (d.exitCode !== null ? r(undefined) : d.once("exit", r)));
    }
    await run("sh", ["-c", `grep ' ${work}' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r umount -l`]);
    await rm(work, { recursive: true, force: true });
  }, 5 * 60_000);

  it("has a corpus of at least 30 Dockerfiles", () => {
    expect(readdirSync(CORPUS).filter((n) => existsSync(path.join(CORPUS, n, "Dockerfile"))).length).toBeGreaterThanOrEqual(30);
  });

  for (const name of names) {
    it(name, { timeout: 15 * 60_000 }, async () => {
      const documented = readJson<ExpectedDifference[]>(name, "expected-differences.json", []);
      for (const d of documented) expect(d.reason, `${name}/expected-differences.json: every entry says why`).toMatch(/\S/);
      const diffs = await outcomes.get(name)!;
      const unexplained = diffs.filter((d) => !documented.some((e) => e.difference === d));
      const gone = documented.filter((e) => !diffs.includes(e.difference)).map((e) => `documented but not seen (update ${name}/expected-differences.json): ${e.difference}`);
      const wrong = [...unexplained, ...gone];
      expect(wrong, wrong.slice(0, 40).join("\n")).toEqual([]);
    });
  }
});
