// Owns the files the bed writes: keys, sshd_config, the client's ssh_config and known_hosts, etc_hosts.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCheckedSync } from "./command.js";

/** Creates an ed25519 key pair at `path` unless one is there already (keys survive `down`). */
export function ensureKey(path: string, comment: string): string {
  if (!existsSync(path) || !existsSync(`${path}.pub`)) {
    runCheckedSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], {
      input: "y\n",
    });
  }
  return readFileSync(`${path}.pub`, "utf8").trim();
}

/** `ssh-ed25519 AAAA…` without the comment, as known_hosts wants it. */
export function publicKeyBody(pub: string): string {
  return pub.split(/\s+/).slice(0, 2).join(" ");
}

export interface SshdSettings {
  dir: string;
  port: number;
  listen: string;
}

export function sshdConfigText({ dir, port, listen }: SshdSettings): string {
  return `${[
    `Port ${port}`,
    `ListenAddress ${listen}`,
    `HostKey ${join(dir, "ssh_host_ed25519_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    // Outside ~, so a test that cleans the home cannot lock itself out.
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "UseDNS no",
    "PrintLastLog no",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
    "MaxStartups 100:30:200",
    // ControlMaster multiplexes many sessions over one connection.
    "MaxSessions 100",
  ].join("\n")}\n`;
}

export interface ClientHost {
  alias: string;
  hostName: string;
  port?: number;
}

export interface ClientSettings {
  hosts: readonly ClientHost[];
  /** ssh Host patterns the shared settings apply to. */
  patterns: readonly string[];
  user: string;
  identityFile: string;
  knownHosts: string;
}

export function sshConfigText(settings: ClientSettings): string {
  const lines: string[] = [];
  for (const host of settings.hosts) {
    lines.push(`Host ${host.alias}`, `  HostName ${host.hostName}`);
    if (host.port !== undefined) lines.push(`  Port ${host.port}`);
  }
  lines.push(
    `Host ${settings.patterns.join(" ")}`,
    `  User ${settings.user}`,
    `  IdentityFile "${settings.identityFile}"`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile "${settings.knownHosts}"`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  BatchMode yes",
    "  ConnectTimeout 5",
  );
  return `${lines.join("\n")}\n`;
}

/** Writes via rename, so an ssh reading the file meanwhile sees the old or the new one, never half. */
export function writeAtomic(path: string, text: string, mode = 0o600): void {
  if (readOrEmpty(path) === text) return;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** Rewrites in place (same inode): running hosts see it through their bind mount. */
export function writeInPlace(path: string, text: string, mode = 0o644): void {
  if (readOrEmpty(path) === text) return;
  writeFileSync(path, text, { mode });
}

export function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
