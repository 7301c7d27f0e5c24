// The tar reader against tars GNU tar wrote (a writer we did not write):
// GNU long names ('L'), POSIX PAX with binary xattrs, "./" prefixes.
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTar } from "../../src/tar/tar-reader.js";
import { tmp } from "../snapshot/fs-helpers.js";

const CAP = "0100000280000000000000000000000000000000";
let base: string;
const longDir = "d".repeat(120);
const longFile = "f".repeat(120);

beforeAll(async () => {
  base = tmp("tar-interop");
  await mkdir(path.join(base, "src", longDir), { recursive: true });
  await writeFile(path.join(base, "src", longDir, longFile), "hi");
  await writeFile(path.join(base, "src", "cap"), "");
  execFileSync("setfattr", ["-n", "security.capability", "-v", `0x${CAP}`, path.join(base, "src", "cap")]);
  execFileSync("tar", ["--format=gnu", "-cf", path.join(base, "gnu.tar"), "-C", path.join(base, "src"), "."]);
  execFileSync("tar", ["--format=posix", "--xattrs", "--xattrs-include=*", "-cf", path.join(base, "pax.tar"), "-C", path.join(base, "src"), "."]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function entries(file: string): Promise<Map<string, { type: string; body: string; xattrs: Record<string, string> }>> {
  const out = new Map<string, { type: string; body: string; xattrs: Record<string, string> }>();
  for await (const { header, body } of readTar(createReadStream(file))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    const xattrs: Record<string, string> = {};
    for (const [k, v] of header.xattrs ?? []) xattrs[k] = v.toString("hex");
    out.set(header.name, { type: header.type, body: Buffer.concat(chunks).toString(), xattrs });
  }
  return out;
}

describe("tar reader interop with GNU tar", () => {
  it("reads GNU long names", async () => {
    const e = await entries(path.join(base, "gnu.tar"));
    expect(e.get(`./${longDir}/${longFile}`)).toMatchObject({ type: "file", body: "hi" });
    expect(e.get(`./${longDir}`)?.type).toBe("directory");
  });

  it("keeps binary PAX xattr values byte for byte", async () => {
    const e = await entries(path.join(base, "pax.tar"));
    expect(e.get("./cap")?.xattrs["security.capability"]).toBe(CAP);
    expect(e.get(`./${longDir}/${longFile}`)?.body).toBe("hi");
  });
});
