// SOURCE_DATE_EPOCH applied to a snapshot itself, at commit: every entry
// newer than the epoch gets the epoch as its time. Clamping the files (not
// only the tar headers) makes every later tar of the snapshot identical, so
// the diffID recorded at commit stays true for every export.
import { lstat, lutimes, readdir } from "node:fs/promises";
import path from "node:path";

export async function clampMtimes(dir: string, epochSeconds: number): Promise<void> {
  const epochMs = epochSeconds * 1000;
  const walk = async (p: string): Promise<void> => {
    const entries = await readdir(p, { withFileTypes: true });
    for (const e of entries) {
      const child = path.join(p, e.name);
      if (e.isDirectory()) await walk(child);
      const st = await lstat(child);
      if (st.mtimeMs > epochMs) await lutimes(child, epochSeconds, epochSeconds);
    }
  };
  await walk(dir);
  const st = await lstat(dir);
  if (st.mtimeMs > epochMs) await lutimes(dir, epochSeconds, epochSeconds);
}
