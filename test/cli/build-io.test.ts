// Where a build reads and writes, as `docker build`: `-f -` and `-` (stdin),
// a git repository as the context, `-o -` / type=tar (a tar on stdout or in
// a file), --iidfile (the image ID: the config digest), --label,
// --annotation, repeated --platform, --check's exit code, through
// bin/kiln.js.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { requireBuilt, sh, shell } from "../helpers/bin.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("build inputs and outputs", () => {
  const ws = useWorkspace({ busybox: true, name: "buildio", context: { "Dockerfile": "FROM busybox\nCOPY a.txt /a.txt\n", "a.txt": "from the context\n" } });
  const k = (args: string) => `kiln --root ${sh(ws.root)} ${args}`;
  beforeAll(async () => {
    await requireBuilt("src/cli/build-inputs.ts", "src/cli/build-outputs.ts", "src/cli/parse-build-flags.ts");
  });

  it("-f - reads the Dockerfile from stdin; - reads a tar context; a lone Dockerfile on stdin has an empty context", () => {
    const df = shell(`printf 'FROM busybox\\nRUN echo stdin-dockerfile > /s\\n' | ${k(`build -q -f - -t in:1 ${sh(ws.ctx)}`)}`);
    expect(df.code, df.stderr).toBe(0);
    const gz = shell(`tar -C ${sh(ws.ctx)} -cz . | ${k("build -t in:2 -o - -")} | tar -xO ./a.txt`);
    expect(gz.stdout).toBe("from the context\n");
    const viaTar = shell(`tar -C ${sh(ws.ctx)} -c . | ${k("build -t in:2 -o - -")} | tar -xO ./a.txt`);
    expect(viaTar.stdout).toBe("from the context\n");
    const alone = shell(`printf 'FROM busybox\\nRUN echo alone > /x\\n' | ${k("build -t in:3 -o - -")} | tar -xO ./x`);
    expect(alone.stdout).toBe("alone\n");
    expect(shell(`echo x | ${k("build -f - -")}`).stderr).toMatch(/cannot both come from stdin/);
  });

  it("a git repository (file:// URL#REF:SUBDIR) is a context; .git is not in it", () => {
    const repo = path.join(ws.work, "repo");
    const git = (...a: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...a]);
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    execFileSync("sh", ["-c", `mkdir -p ${repo}/app && printf 'FROM busybox\\nCOPY . /src\\n' > ${repo}/app/Dockerfile && echo v1 > ${repo}/app/v.txt`]);
    git("add", ".");
    git("commit", "-q", "-m", "one");
    git("tag", "v1");
    execFileSync("sh", ["-c", `echo v2 > ${repo}/app/v.txt`]);
    git("commit", "-q", "-am", "two");
    const at = (ref: string) => shell(`${k(`build -o - file://${repo}#${ref}`)} | tar -xO ./src/v.txt`);
    expect(at("main:app").stdout).toBe("v2\n");
    expect(at("v1:app").stdout).toBe("v1\n");
    const list = shell(`${k(`build -o - file://${repo}#main:app`)} | tar -t`);
    expect(list.stdout).not.toMatch(/\.git/);
    const bad = shell(k(`build file://${repo}#nosuchref:app`));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/git context .*nosuchref/);
  });

  it("-o - writes a tar to stdout (no directory named -); type=tar,dest=FILE writes the same tar", async () => {
    const r = shell(`cd ${sh(ws.work)} && ${k(`build -o - ${sh(ws.ctx)}`)} > out.tar && tar -tf out.tar && test ! -e ./-`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\.\/a\.txt$/m);
    expect(r.stdout).toMatch(/^\.\/bin\/busybox$/m);
    const file = path.join(ws.work, "fs.tar");
    expect(shell(k(`build --output type=tar,dest=${file} ${sh(ws.ctx)}`)).code).toBe(0);
    expect(execFileSync("tar", ["-xOf", file, "./a.txt"], { encoding: "utf8" })).toBe("from the context\n");
    const oci = shell(`${k(`build -o type=oci,dest=- ${sh(ws.ctx)}`)} | tar -t`);
    expect(oci.stdout).toMatch(/^index\.json$/m);
  });

  it("--iidfile and inspect .Id hold the config digest; --metadata-file the manifest digest too", async () => {
    const iid = path.join(ws.work, "iid");
    const meta = path.join(ws.work, "meta.json");
    expect(shell(k(`build -t ids:1 --iidfile ${iid} --metadata-file ${meta} ${sh(ws.ctx)}`)).code).toBe(0);
    const id = await readFile(iid, "utf8");
    const m = JSON.parse(await readFile(meta, "utf8")) as Record<string, string>;
    expect(id).toBe(m["containerimage.config.digest"]);
    expect(shell(k("inspect --format '{{.Id}}' ids:1")).stdout).toBe(`${id}\n`);
    expect(shell(k("inspect --format '{{.Descriptor.digest}}' ids:1")).stdout).toBe(`${m["containerimage.digest"]}\n`);
  });

  it("--label sets image labels over the Dockerfile's; --annotation puts annotations on the manifest and the index", () => {
    const ctx = path.join(ws.work, "labels");
    shell(`mkdir -p ${ctx} && printf 'FROM busybox\\nLABEL team=old keep=yes\\n' > ${ctx}/Dockerfile`);
    const r = shell(k(`build -t lab:1 --label team=web --label version=1.2 --annotation org.example.m=one --annotation index:org.example.i=two --provenance=mode=min ${ctx}`));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(shell(k("inspect --format '{{json .Config.Labels}}' lab:1")).stdout)).toEqual({ team: "web", keep: "yes", version: "1.2" });
    const index = JSON.parse(shell(k("index inspect --raw lab:1")).stdout) as { annotations?: Record<string, string>; manifests: { digest: string }[] };
    expect(index.annotations).toEqual({ "org.example.i": "two" });
    expect(JSON.parse(shell(k("inspect --format '{{json .Manifest.annotations}}' lab:1")).stdout)).toEqual({ "org.example.m": "one" });
    expect(shell(k(`build --annotation index-descriptor:k=v ${ctx}`)).stderr).toMatch(/index-descriptor annotations .* not supported/);
  });

  it("repeated --platform builds every platform (not only the last); repeated --cache-to is refused, not dropped", () => {
    const ctx = path.join(ws.work, "plat");
    shell(`mkdir -p ${ctx} && printf 'FROM scratch\\nCOPY f /f\\n' > ${ctx}/Dockerfile && echo f > ${ctx}/f`);
    const r = shell(k(`build -t plat:1 --platform linux/amd64 --platform linux/arm64 ${ctx}`));
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(shell(k("index inspect --raw plat:1")).stdout) as { manifests: { platform?: { architecture: string } }[] };
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(["amd64", "arm64"]);
    expect(shell(k(`build --cache-to type=local,dest=/tmp/a --cache-to type=local,dest=/tmp/b ${ctx}`)).stderr).toMatch(/one --cache-to/);
  });

  it("--check exits 1 on any warning, as buildx", () => {
    const ctx = path.join(ws.work, "check");
    shell(`mkdir -p ${ctx} && printf 'FROM busybox\\nCMD echo hi\\n' > ${ctx}/Dockerfile`);
    const r = shell(k(`build --check ${ctx}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Check complete, 1 warning has been found!/);
  });
});
