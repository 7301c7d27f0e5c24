// ADD <url> from a hostile server: the URL's path can only name a file in
// the destination directory (never climb out of it), a malformed %-escape is
// a clear error, and a body cut short is a typed "download interrupted".
import { createServer, type Server } from "node:http";
import { readdir, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("ADD <url> from a hostile server", () => {
  const ws = useWorkspace({ name: "add-url" });
  let server: Server;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/cut") {
        // Promise 100 kB, send 1000 bytes, then drop the connection.
        res.writeHead(200, { "content-length": "100000" });
        res.write(Buffer.alloc(1000, 0x61), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("root:x:0:0:pwned:/root:/bin/sh\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const build = async (dockerfile: string, out: string) => {
    await writeFile(path.join(ws.ctx, "Dockerfile"), dockerfile);
    return kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${path.join(ws.work, out)}`, ws.ctx]);
  };

  it("an encoded ../ in the URL path names the file, never a path out of the destination", async () => {
    const r = await build(`FROM scratch\nADD ${base}/%2e%2e%2f%2e%2e%2fetc%2fpasswd /x/\nADD ${base}/a%2F..%2F..%2Fescaped /x/y/\n`, "traversal");
    expect(r.stderr).not.toMatch(/^error/m);
    const out = path.join(ws.work, "traversal");
    expect((await readdir(out)).sort()).toEqual(["x"]);
    expect(await readFile(path.join(out, "x/passwd"), "utf8")).toMatch(/pwned/);
    expect(await readdir(path.join(out, "x/y"))).toEqual(["escaped"]);
  });

  it("a malformed %-escape in the URL is a clear error with file:line", async () => {
    const r = await build(`FROM scratch\nADD ${base}/bad%zz /x/\n`, "malformed");
    expect(r.stderr).not.toMatch(/URIError|internal/);
    expect(r.stderr).toMatch(/Dockerfile:2: ADD http:\/\/127\.0\.0\.1:\d+\/bad%zz: the URL path has a malformed %-escape/);
    expect(r.code).toBe(1);
  });

  it("a download cut short is a typed error naming the bytes received (here at most 1000)", async () => {
    const r = await build(`FROM scratch\nADD ${base}/cut /x/\n`, "cut");
    expect(r.stderr).not.toMatch(/internal|TypeError/);
    expect(r.stderr).toMatch(/Dockerfile:2: ADD http:\/\/127\.0\.0\.1:\d+\/cut: download interrupted after \d+ bytes/);
    expect(r.code).toBe(1);
  });
});
