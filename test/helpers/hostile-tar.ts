// Builds a tar in memory whose entry names are chosen by the test, including
// names a well-behaved tar writer would refuse (`../`, absolute paths).
import { pack } from "tar-stream";

export interface HostileEntry {
  name: string;
  content?: string;
  type?: "file" | "symlink" | "link" | "directory" | "fifo" | "character-device";
  linkname?: string;
  /** For a character device. */
  devmajor?: number;
  devminor?: number;
}

export async function hostileTar(entries: HostileEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    p.on("end", () => resolve());
    p.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    await new Promise<void>((resolve, reject) => {
      p.entry(
        {
          name: e.name,
          type,
          mode: 0o644,
          ...(e.linkname ? { linkname: e.linkname } : {}),
          ...(type === "file" ? { size: Buffer.byteLength(e.content ?? "") } : {}),
          ...(type === "character-device" ? { devmajor: e.devmajor ?? 0, devminor: e.devminor ?? 0 } : {}),
        },
        type === "file" ? (e.content ?? "") : undefined,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
