// Extended attributes for whole trees. Node has no xattr syscalls, so kiln
// spawns the `attr` tools: ONE `getfattr -R` to dump a tree and ONE
// `setfattr --restore` to apply many attributes, instead of a process per
// file. `-h` everywhere: a symlink's own attributes, never its target's (a
// layer's symlink may point at the host's /etc).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KilnError } from "../util/errors.js";

/** Absolute path → (attribute name → raw value). */
export type XattrMap = Map<string, Map<string, Buffer>>;

/** getfattr/setfattr escape '\\', '\n' and '\r' (and '=' in names) as \ooo octal. */
function unquote(s: string): string {
  if (!s.includes("\\")) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.toString("latin1", i + 1, i + 4))) {
      bytes.push(parseInt(raw.toString("latin1", i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString("utf8");
}

function quote(s: string, extra = ""): string {
  let out = "";
  for (const ch of s) {
    if (ch === "\\" || ch === "\n" || ch === "\r" || extra.includes(ch)) {
      out += `\\${ch.charCodeAt(0).toString(8).padStart(3, "0")}`;
    } else out += ch;
  }
  return out;
}

/** All xattrs under `root` (root included), keyed by absolute path. One spawn. */
export async function dumpXattrs(root: string): Promise<XattrMap> {
  const abs = path.resolve(root);
  const child = spawn("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "--absolute-names", "-e", "hex", abs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? -1));
  });
  const out: XattrMap = new Map();
  let current: Map<string, Buffer> | null = null;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line.startsWith("# file: ")) {
      current = new Map();
      out.set(unquote(line.slice("# file: ".length)), current);
    } else if (line !== "" && current) {
      const eq = line.indexOf("=");
      const name = unquote(eq < 0 ? line : line.slice(0, eq));
      const v = eq < 0 ? "" : line.slice(eq + 1);
      current.set(name, v.startsWith("0x") ? Buffer.from(v.slice(2), "hex") : Buffer.from(v.replace(/^"|"$/g, "")));
    }
  }
  const code = await exited;
  if (code !== 0) throw new KilnError("XATTR_FAILED", `getfattr ${abs} exited ${code}: ${stderr.trim()}`);
  return out;
}

/** Applies many xattrs with one `setfattr --restore`. Paths must be absolute. */
export async function restoreXattrs(attrs: Iterable<[string, Map<string, Buffer>]>): Promise<void> {
  let text = "";
  for (const [file, m] of attrs) {
    if (m.size === 0) continue;
    text += `# file: ${quote(file)}\n`;
    for (const [name, value] of m) text += `${quote(name, "=")}=0x${value.toString("hex")}\n`;
    text += "\n";
  }
  if (text === "") return;
  const dir = await mkdtemp(path.join(tmpdir(), "kiln-xattr-"));
  try {
    const file = path.join(dir, "restore");
    await writeFile(file, text);
    await run("setfattr", ["-h", `--restore=${file}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a command, failing with its stderr. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => reject(new KilnError("COMMAND_FAILED", `${cmd}: ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new KilnError("COMMAND_FAILED", `${cmd} ${args.join(" ")} exited ${code}: ${stderr.trim()}`));
    });
  });
}
