// A minimal root filesystem made from Debian's busybox-static: the base every
// integration test builds on (there is no Docker Hub here).
import { copyFile, mkdir, symlink, writeFile, chmod } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";

export const BUSYBOX = "/bin/busybox";

export async function makeBusyboxRootfs(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: run scripts/setup.sh (apt-get install busybox-static)`);
  for (const d of ["bin", "etc", "tmp", "root", "home/app", "var", "usr/bin"]) await mkdir(path.join(dir, d), { recursive: true });
  await chmod(path.join(dir, "tmp"), 0o1777);
  await copyFile(BUSYBOX, path.join(dir, "bin/busybox"));
  await chmod(path.join(dir, "bin/busybox"), 0o755);
  for (const app of ["sh", "echo", "cat", "ls", "id", "pwd", "mkdir", "rm", "ln", "touch", "chmod", "chown", "env", "sleep", "true", "false", "stat", "printf", "test", "mv", "cp", "find", "sort", "wc", "head", "tar", "sed", "grep", "whoami", "dd", "seq"]) {
    await symlink("busybox", path.join(dir, "bin", app));
  }
  await writeFile(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  await writeFile(path.join(dir, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n");
}
