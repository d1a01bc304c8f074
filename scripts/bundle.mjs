// Bundles the CLI into one CommonJS file, dist/offload.cjs, which bin/offload.js compiles with V8's
// code cache (Node 20 has none for ES modules): loading one file instead of several hundred modules
// (zod alone is hundreds) halves offload's start-up, and the cache spares compiling it. Nothing in it
// runs before it is needed: esbuild keeps each lazily imported module's top level in a function called
// on first use, so a command pays only for its own code (the YAML parser only where an offload.yaml
// exists, the dashboard, the clouds). Measured against ES module chunks (one a command, compiled on
// every run): `ps` as fast, `report` a third faster, a warm run faster; one build, one way to start.
// The library (dist/index.js and its types) is tsc's output, not this bundle.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";

// The ES module chunks of earlier builds (dist/offload.mjs, dist/offload-<hash>.mjs) are no longer made.
for (const name of readdirSync("dist"))
  if (/^offload(-[A-Z0-9]+)?\.mjs$/.test(name)) rmSync(`dist/${name}`);

/**
 * zod's index initialises all of its ~40 error-message locales (400 kB, a fifth of the bundle) for
 * its `locales` namespace, the first time any schema module loads: on every run, since the command
 * line's settings are checked by zod. offload speaks English only and uses zod's default (English)
 * messages, which zod imports from locales/en.js directly: the namespace keeps only `en`.
 */
const englishOnlyZod = {
  name: "english-only-zod",
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * commander requires node:child_process at its top (for git-style executable subcommands, which
 * offload has none of): ~6 ms of every command, which `ps` and `report` of finished runs otherwise never
 * load (they spawn nothing). Here it is required on first use instead. A commander whose line reads
 * otherwise stops the build: look at the new version's use of childProcess and adapt this.
 */
const lazyCommanderChildProcess = {
  name: "lazy-commander-child-process",
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(eager))
        throw new Error(`bundle: ${args.path} no longer requires child_process as expected`);
      const lazy =
        "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};

await build({
  entryPoints: ["dist/cli/main.js"],
  plugins: [englishOnlyZod, lazyCommanderChildProcess],
  outfile: "dist/offload.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  // The SigV4 signer is imported only by bucket transfers, and cli-progress only when a terminal shows a
  // long copy: left out, they cost a run without either nothing.
  external: ["@smithy/*", "cli-progress"],
  // ...and loaded with require(), not import(): Node 20 loses vm.Script's importModuleDynamically once
  // the code comes from a code cache another process wrote, and every import() then throws
  // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING (a bucket run ended as a bug, exit 250). Both are CommonJS.
  supported: { "dynamic-import": false },
  // `import.meta.url` becomes the file's URL, passed in by bin/offload.js.
  define: { "import.meta.url": "offloadBundleUrl" },
  // ASCII only (the rest below): bin/offload.js reads an ASCII file as latin1, a third of UTF-8's cost,
  // and V8 keeps its text in one byte a character.
  charset: "ascii",
});

// esbuild escapes strings and templates, but leaves comments and regular expression literals as they
// were written. `\uXXXX` is the same character in a regular expression (in a class too, and a pair of
// them is one code point under the u flag), an identifier or a string, and plain text in a comment: so
// every UTF-16 unit that is not ASCII is written so, unless a backslash escapes it (its meaning would
// change: the build stops instead). U+2028 and U+2029 end a line wherever they can stand: they stay
// line ends.
const text = readFileSync("dist/offload.cjs", "utf8");
const ascii = text.replace(/[^\0-\x7f]/g, (char, at) => {
  if (char === "\u2028" || char === "\u2029") return "\n";
  if (text[at - 1] === "\\")
    throw new Error(`bundle: a backslash escapes a non-ASCII character at offset ${at}`);
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
});
if (ascii !== text) writeFileSync("dist/offload.cjs", ascii);
