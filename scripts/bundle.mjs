// Bundles the CLI (tsc's output under dist/) into dist/bundle/ for
// bin/kiln.js. Loading ~130 separate ESM files costs more in resolving,
// reading and linking than in compiling them (a no-op rebuild loaded ~113
// kiln modules in ~100 ms; the bundle's ~20 chunks take ~40 ms). Splitting at
// each dynamic import keeps `kiln --version` from paying for the builder.
// The library entry (dist/index.js, package.json "exports") stays unbundled.
// Run by scripts/setup.sh after tsc.
import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const repo = path.resolve(import.meta.dirname, "..");
const dist = path.join(repo, "dist");
const outdir = path.join(dist, "bundle");

// Code that finds files relative to its own module (import.meta.url) would
// look one directory off from dist/bundle/*.js. The one such module,
// src/version.ts (dist/version.js -> ../package.json), gets one more "../";
// any other, or a change to that line, fails the bundle rather than ship a
// CLI that reads files that are not there.
const relocate = {
  name: "kiln-import-meta",
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(dist + path.sep)) return undefined;
      let text = await readFile(args.path, "utf8");
      if (args.path === path.join(dist, "version.js")) {
        const from = 'new URL("../package.json", import.meta.url)';
        if (!text.includes(from)) throw new Error(`${args.path}: expected ${from}; update scripts/bundle.mjs`);
        text = text.replace(from, 'new URL("../../package.json", import.meta.url)');
      } else if (/import\.meta\.(url|dirname|filename)/.test(text)) {
        throw new Error(`${args.path} uses import.meta paths, which move in dist/bundle/; teach scripts/bundle.mjs about it`);
      }
      return { contents: text, loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};

// Written beside the live bundle and swapped in by rename: a kiln started
// meanwhile (another shell, a test) sees either the old bundle whole or none
// (then bin/kiln.js falls back to dist/cli/), never a half-written one. A new
// directory each time also drops chunks the new build no longer has (their
// names carry a content hash).
const tmp = `${outdir}.tmp-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;
await rm(tmp, { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(dist, "cli/main.js") },
  outdir: tmp,
  bundle: true,
  // ESM output with code splitting: every `await import(...)` (the command
  // groups in src/cli/main.ts, the registry code behind builds) becomes a
  // chunk loaded only when reached. One unsplit file measured ~90 ms slower
  // for `kiln --version`: esbuild hoists the external imports of lazily
  // loaded code (undici) to that file's top.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // npm dependencies stay in node_modules, loaded as by the unbundled CLI:
  // undici and tar-stream are CommonJS (in ESM output they would need a
  // require() shim), and bundling the ESM one on the build path (minimatch)
  // measured only ~4 ms.
  packages: "external",
  // Linked maps chained through tsc's .js.map files back to src/*.ts:
  // `node --enable-source-maps bin/kiln.js` shows TypeScript lines.
  sourcemap: "linked",
  // Not minified: stack traces keep kiln's function names without a map.
  minify: false,
  chunkNames: "chunk-[hash]",
  logLevel: "warning",
  plugins: [relocate],
});
await rename(outdir, old).catch((err) => {
  if (err.code !== "ENOENT") throw err;
});
await rename(tmp, outdir);
await rm(old, { recursive: true, force: true });
