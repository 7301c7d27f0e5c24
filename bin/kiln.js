#!/usr/bin/env node
import { statSync } from "node:fs";

// The CLI bundled by scripts/bundle.mjs (~20 chunks instead of ~130 modules
// on a build: about 40 ms less start-up for a no-op rebuild), but only when it
// is at least as new as tsc's output: after a bare `npx tsc` the bundle would
// run stale code, so dist/cli/ is used until scripts/setup.sh bundles again.
// KILN_BUNDLE=0 forces dist/cli/. Source maps are not switched on here (they
// measured +5-9 ms a run); `node --enable-source-maps bin/kiln.js` maps
// bundle stack traces back to src/*.ts.
const dist = new URL("../dist/", import.meta.url);
const mtime = (p) => statSync(new URL(p, dist), { throwIfNoEntry: false })?.mtimeMs ?? NaN;
const bundled =
  process.env.KILN_BUNDLE !== "0" && mtime("bundle/main.js") >= Math.max(mtime(".built"), mtime("cli/main.js"));
const { main } = await import(bundled ? "../dist/bundle/main.js" : "../dist/cli/main.js");

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kiln: internal error: ${err?.stack ?? err}\n`);
    process.exit(70);
  },
);
