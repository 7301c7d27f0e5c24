// Every test process runs kiln with a config that never lets a pull reach
// Docker Hub itself (the tests have no internet and must send nothing past
// 127.0.0.0/8): docker.io is pulled only from mirrors a test configures. A
// test that sets KILN_CONFIG (or passes its own env) keeps its own.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

if (!process.env.KILN_CONFIG) {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-test-config-"));
  const file = path.join(dir, "config.toml");
  writeFileSync(file, '[registry."docker.io"]\nupstream = false\n');
  process.env.KILN_CONFIG = file;
}
