// Command lines written for `docker build`: flags read as cobra/pflag reads
// them, errors in docker's words with the nearest flag, through bin/kiln.js.
import { describe, expect, it } from "vitest";
import { requireBuilt, shell } from "../helpers/bin.js";

describe("kiln build flags, as docker reads them", () => {
  it("an unknown flag says so, with the nearest flag and where the help is", async () => {
    await requireBuilt("src/cli/flags.ts");
    const r = shell("kiln build --tagg x:1 .");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown flag: --tagg — did you mean --tag? See 'kiln build --help'.\n");
    const far = shell("kiln images --zzzzzz");
    expect(far.stderr).toBe("error: unknown flag: --zzzzzz — See 'kiln images --help'.\n");
    expect(shell("kiln build -Z .").stderr).toMatch(/^error: unknown shorthand flag: 'Z' in -Z/);
    expect(shell("kiln build .  -t").stderr).toMatch(/^error: flag needs an argument: 't' in -t/);
  });

  it("boolean flags take =true / =false; anything else is a usage error", () => {
    const bad = shell("kiln build --push=maybe .");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid argument "maybe" for "--push" flag/);
    // --push=false is no push: no "-t needed" error; the build itself fails on the missing context.
    const off = shell("kiln build --push=false --no-cache=true --pull=false --rm --force-rm=true /nonexistent-ctx");
    expect(off.stderr).not.toMatch(/--push needs|unknown flag/);
    expect(off.stderr).toMatch(/build context "\/nonexistent-ctx" does not exist/);
    expect(shell("kiln images --quiet=false --digests=1").code).toBe(0);
  });

  it("--cache-from REF (the classic bare form) is a registry cache, as buildx's type=registry,ref=REF", () => {
    const r = shell(`d=$(mktemp -d) && printf 'FROM scratch\\n' > $d/Dockerfile && kiln --root $d/store build --cache-from 127.0.0.1:9/none:cache $d; rm -rf "$d"`);
    expect(r.stderr).not.toMatch(/is not KEY=VALUE/);
    expect(r.stderr).toMatch(/127\.0\.0\.1:9\/v2\/none\/manifests\/cache/);
  });
});
