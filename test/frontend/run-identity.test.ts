// Who and where a RUN process is: its user and groups resolved from the
// image's own /etc/passwd and /etc/group (the primary gid always among the
// supplementary groups, as runc and containerd since CVE-2023-25173), and
// its hostname (BuildKit's BUILDKIT_SANDBOX_HOSTNAME build arg).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useWorkspace } from "../helpers/workspace.js";
import { buildIn } from "./helpers.js";

describe("RUN's identity", () => {
  const ws = useWorkspace({ busybox: true, name: "identity" });
  const build = (name: string, df: string, extra: string[] = []) => buildIn(ws.root, ws.work, name, df, {}, extra);

  // The kernel keeps supplementary groups sorted, so id lists them by number.
  it("id shows the primary group among the groups, for root, a named user, uid only and uid:gid", async () => {
    const df = [
      "FROM busybox:latest",
      "RUN id > /tmp/root",
      "USER app",
      "RUN id > /tmp/app",
      "USER 1234",
      "RUN id > /tmp/uid",
      "USER 1234:1234",
      "RUN id > /tmp/uidgid",
    ].join("\n");
    const r = await build("gids", df);
    expect(r.code, r.stderr).toBe(0);
    const read = (f: string) => readFile(path.join(r.out, "tmp", f), "utf8");
    expect(await read("root")).toBe("uid=0(root) gid=0(root) groups=0(root)\n");
    expect(await read("app")).toBe("uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n");
    expect(await read("uid")).toBe("uid=1234 gid=0(root) groups=0(root)\n");
    expect(await read("uidgid")).toBe("uid=1234 gid=1234 groups=1234\n");
  });

  it("--build-arg BUILDKIT_SANDBOX_HOSTNAME names the host in hostname, $HOSTNAME and /etc/hosts, with no unused-arg warning", async () => {
    const df = ["FROM busybox:latest", "RUN hostname > /h && echo $HOSTNAME >> /h && grep -c \"$(hostname)\" /etc/hosts >> /h"].join("\n");
    const r = await build("hostname", df, ["--build-arg", "BUILDKIT_SANDBOX_HOSTNAME=foo"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(r.out, "h"), "utf8")).toBe("foo\nfoo\n1\n");
    expect(r.stderr).not.toMatch(/not consumed/);
    // The hostname is part of the step's cache key, as in BuildKit: another one reruns it.
    const other = await build("hostname-bar", df, ["--build-arg", "BUILDKIT_SANDBOX_HOSTNAME=bar"]);
    expect(other.code, other.stderr).toBe(0);
    expect(await readFile(path.join(other.out, "h"), "utf8")).toBe("bar\nbar\n1\n");
  });
});
