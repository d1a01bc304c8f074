// Which cipher offload's ssh connections prefer. ssh encrypts every byte of a first sync's tar, a
// download and a log at both ends, on the same CPUs as the job; OpenSSH prefers chacha20-poly1305, which
// costs about twice the CPU of AES-GCM on a CPU with AES instructions (a 780 MB tar through the master:
// 1.7-2.1 s of the master's CPU with chacha20, 1.2-1.3 s with aes128-gcm; measured). So where this CPU has
// them, the connection lists the same ciphers OpenSSH enables by default, AES-GCM first. A user who names
// ciphers in an ssh config file (or an Include of one, as crypto-policies does) keeps theirs: offload then
// passes nothing, since a command-line option would win over the file.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";

/** OpenSSH's default ciphers (6.5 and later), AES-GCM first. */
export const AES_FIRST_CIPHERS =
  "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

/** Whether a `/proc/cpuinfo` text names AES instructions (`aes` among x86 flags or arm64 features). */
export function cpuinfoHasAes(text: string): boolean {
  return /^(?:flags|features)\s*:.*\baes\b/im.test(text);
}

/** Whether an ssh config text sets `Ciphers` (anywhere: in a Host or Match block counts). */
export function configSetsCiphers(text: string): boolean {
  return /^\s*ciphers(?:\s|=)/im.test(text);
}

/** The patterns of a config text's `Include` lines, each as written (quotes removed). */
export function includePatterns(text: string): string[] {
  const patterns: string[] = [];
  for (const match of text.matchAll(/^\s*include(?:\s*=\s*|\s+)(.+)$/gim)) {
    for (const word of (match[1] ?? "").match(/"[^"]*"|\S+/g) ?? [])
      patterns.push(word.replace(/^"|"$/g, ""));
  }
  return patterns;
}

/** The files an Include pattern names: `~` and relative paths as ssh reads them, `*`/`?` in the name. */
function expandInclude(pattern: string, relativeTo: string, home: string): string[] {
  const path = pattern.startsWith("~/")
    ? join(home, pattern.slice(2))
    : isAbsolute(pattern)
      ? pattern
      : join(relativeTo, pattern);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  const glob = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  try {
    return readdirSync(dirname(path))
      .filter((entry) => glob.test(entry))
      .sort()
      .map((entry) => join(dirname(path), entry));
  } catch {
    return [];
  }
}

/** Whether a config file, or one it includes (to ssh's depth of 16), sets ciphers. */
function fileSetsCiphers(path: string, relativeTo: string, home: string, depth = 0): boolean {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return false; // absent or unreadable: ssh skips it too
  }
  if (configSetsCiphers(text)) return true;
  if (depth >= 16) return false;
  return includePatterns(text).some((pattern) =>
    expandInclude(pattern, relativeTo, home).some((file) =>
      fileSetsCiphers(file, relativeTo, home, depth + 1),
    ),
  );
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

const decided = new Map<string, string[]>();

/**
 * The ssh options that make a connection prefer AES-GCM, or none where the CPU lacks AES instructions or
 * the ssh config (`configFile`, else the user's and the system's) names ciphers. Decided once a process.
 */
export function cipherOptions(configFile?: string): string[] {
  const key = configFile ?? "";
  const known = decided.get(key);
  if (known) return known;
  // ssh reads ~ from the passwd entry, tests and wrappers set HOME: either may hold the user's config.
  const homes = [...new Set([homedir(), safeUserHome()].filter((home) => home !== ""))];
  const files =
    configFile !== undefined
      ? homes.map((home) => ({ path: configFile, relativeTo: join(home, ".ssh"), home }))
      : [
          ...homes.map((home) => ({
            path: join(home, ".ssh", "config"),
            relativeTo: join(home, ".ssh"),
            home,
          })),
          ...homes.map((home) => ({ path: "/etc/ssh/ssh_config", relativeTo: "/etc/ssh", home })),
        ];
  const userCiphers = files.some((f) => fileSetsCiphers(f.path, f.relativeTo, f.home));
  const options = !userCiphers && hasAes() ? ["-o", `Ciphers=${AES_FIRST_CIPHERS}`] : [];
  decided.set(key, options);
  return options;
}

function safeUserHome(): string {
  try {
    return userInfo().homedir;
  } catch {
    return "";
  }
}
