// Bundles the CLI (dist/offload.mjs): loading a few modules instead of several hundred (zod alone is
// hundreds of files) halves offload's start-up, which every `offload run` pays. Split into chunks: the
// entry holds argv parsing, and each command's code (with what only it needs: the YAML parser only
// where an offload.yaml exists, the dashboard, the clouds) is read when that command runs, since V8
// compiles every byte of a module it loads (1.4 MB: a third of a warm run's CPU, profiled).
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Chunks are named by hash: those of an earlier build would pile up.
for (const name of readdirSync("dist"))
  if (/^offload(-[A-Z0-9]+)?\.mjs$/.test(name)) rmSync(`dist/${name}`);

await build({
  entryPoints: ["dist/cli/main.js"],
  outdir: "dist",
  entryNames: "offload",
  // Beside offload.mjs, so that a path relative to import.meta.url means the same in every chunk.
  chunkNames: "offload-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  // The SigV4 signer is imported only by bucket transfers, and cli-progress only when a terminal shows a
  // long copy: left out, they cost a run without either nothing.
  external: ["@smithy/*", "cli-progress"],
  // CommonJS dependencies (commander) call require() for node built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as offloadCreateRequire } from 'node:module'; const require = offloadCreateRequire(import.meta.url);",
  },
});

// The same CLI as one CommonJS file, which bin/offload.js compiles with V8's code cache (Node 20 has
// none for ES modules). Nothing in it runs before it is needed: esbuild keeps each lazily imported
// module's top level in a function called on first use. `import.meta.url` becomes the file's URL,
// passed in by bin/offload.js.
await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/offload.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  external: ["@smithy/*", "cli-progress"],
  define: { "import.meta.url": "offloadBundleUrl" },
});
