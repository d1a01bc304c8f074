#!/usr/bin/env node
// Entry point: runs the bundled CLI (npm install builds it through the `prepare` script).
//
// Node 20 caches no compiled code between runs, and compiling the bundle was most of a warm run's
// start-up (profiled: more than the run's two round trips). So the CLI comes as one CommonJS file
// (dist/offload.cjs), compiled here through vm.Script with V8's code cache: the first successful run of a
// command writes the code it compiled to the user's cache dir, later runs of that command read it back.
// A cache V8 refuses (another bundle or node) is rewritten; any failure to read or write one is silent
// and costs only the time.
//
// This file is CommonJS (bin/package.json): an ES module entry starts Node's ESM loader and builds an
// ES facade of each built-in it imports (node:fs's loads every stream class), ~15 ms of CPU a command.
"use strict";
/**
 * OFFLOAD_TRACE's time line (src/cli/trace.ts): a mark with the CPU used so far. "bin start" is where
 * Node's own start-up ends, the floor under every command.
 */
function markTrace(name) {
  if (!process.env.OFFLOAD_TRACE) return;
  const { user, system } = process.cpuUsage();
  performance.mark(name, { detail: { cpu: (user + system) / 1000 } });
}
markTrace("bin start");
const {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} = require("node:fs");
const { isAscii } = require("node:buffer");
const { createRequire } = require("node:module");
const { homedir } = require("node:os");
const { basename, dirname, join } = require("node:path");
const { pathToFileURL } = require("node:url");
const vm = require("node:vm");

const argv = process.argv.slice(2);
const bundle = join(__dirname, "..", "dist", "offload.cjs");

/**
 * The bundle's text and what identifies this very file: inode, size, mtime and ctime, read from the
 * same open file (ctime changes with any write, rename or chmod, and no tool can set it back). The
 * build makes the bundle ASCII-only, and ASCII bytes are latin1 text: decoding them as such costs a
 * third of decoding UTF-8 (2 MB a command); bytes that are not all ASCII are decoded as UTF-8.
 */
function readBundle() {
  let fd;
  try {
    fd = openSync(bundle, "r");
    const stat = fstatSync(fd, { bigint: true });
    const identity = `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    const bytes = Buffer.allocUnsafe(Number(stat.size));
    let filled = 0;
    while (filled < bytes.length) {
      const got = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (got === 0) return undefined;
      filled += got;
    }
    return { source: bytes.toString(isAscii(bytes) ? "latin1" : "utf8"), identity };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One cache a command (each compiles other code), a node version and an install (a hash of its path). */
function cachePath() {
  const command = /^[a-z][a-z-]{0,30}$/.test(argv[0] ?? "") ? argv[0] : "main";
  let hash = 0;
  for (const char of bundle) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const name = `${command}-${process.version}-${(hash >>> 0).toString(36)}.v8`;
  return join(base, "offload", name);
}

// V8 checks a cache only against the source's length: a rebuilt bundle of the same length would run
// the old build's code (tried on Node 20). So each cache file starts with a line naming the bundle file
// it was made from (its identity above: a stat, where hashing the 1.4 MB cost ~5 ms a command), and
// one that does not match is not handed to V8 at all.
function readCache(path, header) {
  try {
    const file = readFileSync(path);
    return file.subarray(0, header.length).equals(header)
      ? file.subarray(header.length)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A cache of another build untouched this long is an old install's: removed when a new one is written. */
const STALE_MS = 24 * 3600_000;

/** Written whole (a temp file renamed over it), so a concurrent run reads an old cache or the new one. */
function writeCache(path, data) {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
    removeStaleCaches(path);
  } catch {
    // No cache dir to write: the next run compiles again.
  }
}

/**
 * Each build and node version names its own caches (~0.5 MB a command), so every upgrade left the
 * last one's behind for ever. Runs only when a cache is written (a command's first run of a build);
 * a day's grace keeps two installs used side by side from removing each other's.
 */
function removeStaleCaches(kept) {
  const dir = dirname(kept);
  const prefix = `${basename(kept).split("-v")[0]}-v`;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === kept || !name.startsWith(prefix) || !name.endsWith(".v8")) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
    } catch {
      // Gone already, or not ours to remove: it costs only disk.
    }
  }
}

async function runCommonJs({ source, identity }) {
  const cache = cachePath();
  const header = Buffer.from(`offload-bundle ${identity}\n`);
  const cachedData = readCache(cache, header);
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, offloadBundleUrl) {${source}\n})`,
    {
      filename: bundle,
      cachedData,
      // The bundle's import() of optional dependencies (the SigV4 signer, cli-progress).
      importModuleDynamically:
        vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
    },
  );
  // OFFLOAD_TRACE's time line shows whether V8 took the cache.
  const verdict =
    cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "accepted";
  markTrace(`code cache ${verdict}`);
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    createRequire(bundle),
    module,
    bundle,
    dirname(bundle),
    pathToFileURL(bundle).href,
  );
  const code = await module.exports.main(argv);
  // After a run that went well, the cache holds what this command compiled (lazily compiled code too).
  if (code === 0 && (cachedData === undefined || script.cachedDataRejected))
    writeCache(cache, Buffer.concat([header, script.createCachedData()]));
  return code;
}

const read = readBundle();
if (read === undefined) {
  // As the CLI reports an OffloadError (E_NOT_BUILT, exit 200: EXIT_CODES.failure), which lives in the
  // very bundle that is missing.
  process.stderr.write(
    `error E_NOT_BUILT: cannot read ${bundle}, the built CLI.\nhint: run \`npm run build\` (or \`npm install\`) in ${dirname(dirname(bundle))}.\n`,
  );
  process.exitCode = 200;
} else
  runCommonJs(read).then((code) => {
    process.exitCode = code;
  });
