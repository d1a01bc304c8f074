// Bundles the CLI into one file (dist/offload.mjs): loading one module instead of several hundred
// (zod alone is hundreds of files) halves offload's start-up, which every `offload run` pays.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/offload.mjs",
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
