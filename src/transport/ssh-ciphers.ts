// Which cipher offload's ssh connections prefer. ssh encrypts every byte of a first sync's tar, a
// download and a log at both ends, on the same CPUs as the job; OpenSSH prefers chacha20-poly1305, which
// costs about twice the CPU of AES-GCM on a CPU with AES instructions (a 780 MB tar through the master:
// 1.7-2.1 s of the master's CPU with chacha20, 1.2-1.3 s with aes128-gcm; measured). So where this CPU has
// them, the connection lists the same ciphers OpenSSH enables by default, AES-GCM first. A user whose ssh
// config (or an Include of it, as crypto-policies does) gives this host other ciphers than ssh's default
// keeps theirs: offload then passes nothing, since a command-line option would win over the file.
// ssh itself says which ciphers apply (`ssh -G`); its answer is kept beside the control socket and
// asked again only when a config file it read, or the ssh program, changes: a warm run spawns nothing.
import { closeSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { runProcessSync } from "./process.js";
import { findLocalProgram } from "./programs.js";
import { configPathsRead, signaturesOf, unchangedSince, watchedPaths } from "./ssh-config-files.js";
import { parseSshG } from "./ssh-g.js";
import { buildSshGArgv, type SshResolveTarget } from "./ssh-resolve.js";

/** OpenSSH's default ciphers (6.5 and later), AES-GCM first. */
export const AES_FIRST_CIPHERS =
  "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

/** Where ssh is asked: the destination as the transport gives it, and its `ssh -F` file if any. */
export interface CipherTarget extends SshResolveTarget {
  configFile?: string | undefined;
}

/** Whether a `/proc/cpuinfo` text names AES instructions (`aes` among x86 flags or arm64 features). */
export function cpuinfoHasAes(text: string): boolean {
  return /^(?:flags|features)\s*:.*\baes\b/im.test(text);
}

/** The first 8 KiB of /proc/cpuinfo (the first CPU's entry: the kernel makes the rest only if read). */
function readCpuinfoHead(): string {
  let fd: number | undefined;
  try {
    fd = openSync("/proc/cpuinfo", "r");
    const buffer = Buffer.alloc(8192);
    return buffer.toString("latin1", 0, readSync(fd, buffer, 0, buffer.length, null));
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether this CPU has AES instructions: Linux says in /proc/cpuinfo; every Mac has them. */
function hasAes(): boolean {
  if (process.platform === "darwin") return true;
  return process.platform === "linux" && cpuinfoHasAes(readCpuinfoHead());
}

/** `Match exec` may run a command: a config that hangs costs a run this much, then no preference. */
const ASK_TIMEOUT_MS = 5000;

/** The `ciphers` ssh resolves for argv (an `ssh -G`), or undefined where it could not say. */
function resolvedCiphers(argv: string[]): { ciphers: string | undefined; stderr: string } {
  const result = runProcessSync(argv, ASK_TIMEOUT_MS);
  if (result.code !== 0) return { ciphers: undefined, stderr: result.stderr };
  try {
    return { ciphers: parseSshG(result.stdout).raw.get("ciphers")?.[0], stderr: result.stderr };
  } catch {
    return { ciphers: undefined, stderr: result.stderr };
  }
}

function userHomes(): string[] {
  let passwdHome = "";
  try {
    passwdHome = userInfo().homedir;
  } catch {
    // no passwd entry (a container's uid): HOME alone
  }
  // ssh reads ~ from the passwd entry, tests and wrappers set HOME: either may hold the user's config.
  return [...new Set([homedir(), passwdHome].filter((home) => home !== ""))];
}

interface Decision {
  /** Each path the answer depends on (the ssh program, config files and their folders): its signature. */
  watched: Record<string, string>;
  options: string[];
}

/** Asks ssh (two `ssh -G`: this host's config, and none) whether the user chose ciphers for the host. */
function askSsh(target: CipherTarget, ssh: string): Decision {
  const homes = userHomes();
  const argv = buildSshGArgv(target, { configFile: target.configFile });
  const mine = resolvedCiphers([ssh, "-v", ...argv.slice(1)]);
  const byDefault = resolvedCiphers([ssh, "-G", "-F", "/dev/null", "--", target.host]);
  // Read by name when they are there, though -v names only those it found.
  const implicit =
    target.configFile !== undefined
      ? [target.configFile]
      : [...homes.map((home) => join(home, ".ssh", "config")), "/etc/ssh/ssh_config"];
  const watched = watchedPaths(implicit, configPathsRead(mine.stderr, homes));
  const chosen = mine.ciphers === undefined || mine.ciphers !== byDefault.ciphers;
  return {
    watched: signaturesOf([ssh, ...watched]),
    options: chosen ? [] : ["-o", `Ciphers=${AES_FIRST_CIPHERS}`],
  };
}

function readDecision(path: string): Decision | undefined {
  try {
    const decision = JSON.parse(readFileSync(path, "utf8")) as Partial<Decision> | null;
    const { options, watched } = decision ?? {};
    // Only an answer askSsh gives is taken: the options reach ssh's argv, where a damaged or edited
    // file's `[5]` read as the host name (every connection to 0.0.0.5) and a ProxyCommand ran.
    if (isDecidedOptions(options) && typeof watched === "object" && watched !== null)
      return { options, watched };
  } catch {
    // absent or unreadable: ask ssh
  }
  return undefined;
}

/** None, or AES-GCM first: the two answers askSsh gives. */
function isDecidedOptions(options: unknown): options is string[] {
  if (!Array.isArray(options)) return false;
  return (
    options.length === 0 ||
    (options.length === 2 && options[0] === "-o" && options[1] === `Ciphers=${AES_FIRST_CIPHERS}`)
  );
}

/** Best effort: a decision that cannot be kept only costs the next run two `ssh -G`. */
function writeDecision(path: string, decision: Decision): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(decision), { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // ignore
  }
}

/**
 * The ssh options that make a connection to `target` prefer AES-GCM, or none where the CPU lacks AES
 * instructions or ssh's config gives the host ciphers of its own. Kept at `cachePath` while the files
 * ssh read are unchanged. (A `Match exec` whose command answers otherwise later is not noticed.)
 */
export function decideCipherOptions(target: CipherTarget, cachePath: string): string[] {
  if (!hasAes()) return [];
  const ssh = findLocalProgram("ssh");
  if (ssh === undefined) return []; // the connection's own spawn says what is missing
  const kept = readDecision(cachePath);
  if (kept?.watched[ssh] !== undefined && unchangedSince(kept.watched)) return kept.options;
  const decision = askSsh(target, ssh);
  writeDecision(cachePath, decision);
  return decision.options;
}

const decided = new Map<string, string[]>();

/** `decideCipherOptions`, once a process for each destination. */
export function cipherOptions(target: CipherTarget, cachePath: string): string[] {
  let options = decided.get(cachePath);
  if (options === undefined) {
    options = decideCipherOptions(target, cachePath);
    decided.set(cachePath, options);
  }
  return options;
}
