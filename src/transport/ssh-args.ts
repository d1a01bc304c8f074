// The argv an ssh Transport gives every ssh it spawns: its target, its control socket, its safety options.
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { quoteShell } from "../shell/quote.js";
import { cipherOptions } from "./ssh-ciphers.js";

export interface SshTransportOptions {
  /** What the user named, for messages. */
  label: string;
  host: string;
  user?: string | undefined;
  port?: number | undefined;
  /** An ssh config file to use instead of ~/.ssh/config (`ssh -F`). */
  configFile?: string | undefined;
  connectTimeoutSeconds?: number | undefined;
  /** Seconds between keepalives; three unanswered ones end the connection, so a dead link is noticed. */
  keepaliveSeconds?: number | undefined;
  /** How long the master outlives the last session; a later `offload` call reuses it while it lives. */
  persistSeconds?: number | undefined;
  controlDir?: string | undefined;
}

export function connectTimeoutOf(options: SshTransportOptions): number {
  return options.connectTimeoutSeconds ?? 10;
}

export function persistSecondsOf(options: SshTransportOptions): number {
  return options.persistSeconds ?? 600;
}

/** A short stable key for the destination (and `extra`), so two offload processes find the same files. */
function destinationKey(o: SshTransportOptions, extra: string[] = []): string {
  const scope = [o.configFile ?? "", o.user ?? "", o.host, o.port ?? "", ...extra].join("\0");
  return createHash("sha256").update(scope).digest("hex").slice(0, 20);
}

/** Named by offload, not ssh's %C, so that whether a master is there can be seen without a spawn. */
export function controlPathIn(controlDir: string, options: SshTransportOptions): string {
  return join(controlDir, `m-${destinationKey(options)}`);
}

/** Beside the control socket: private, and scoped to the destination, its ssh config and the dir. */
export function factsPathBeside(
  controlPath: string,
  options: SshTransportOptions,
  remoteDir: string,
): string {
  return join(dirname(controlPath), `facts-${destinationKey(options, [remoteDir])}.json`);
}

/** Beside the control socket: what ssh said about the ciphers for this destination (ssh-ciphers.ts). */
export function ciphersPathBeside(controlPath: string, options: SshTransportOptions): string {
  return join(dirname(controlPath), `ciphers-${destinationKey(options)}.json`);
}

/** Options every ssh invocation shares. Host keys are always checked: no option here can relax that. */
export function sshBaseArgs(o: SshTransportOptions, controlPath: string): string[] {
  const args: string[] = [];
  if (o.configFile) args.push("-F", o.configFile);
  if (o.user) args.push("-l", o.user);
  if (o.port) args.push("-p", String(o.port));
  args.push(
    "-o",
    `ControlPath=${controlPath}`,
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `ServerAliveInterval=${o.keepaliveSeconds ?? 5}`,
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    `ConnectTimeout=${connectTimeoutOf(o)}`,
    ...cipherOptions(o, ciphersPathBeside(controlPath, o)),
  );
  return args;
}

/** What a person types after `ssh` to reach this target by hand, for hints. */
export function sshCommandTarget(o: SshTransportOptions): string {
  return [
    ...(o.configFile ? ["-F", quoteShell(o.configFile)] : []),
    ...(o.port ? ["-p", String(o.port)] : []),
    o.user ? `${o.user}@${o.host}` : o.host,
  ].join(" ");
}
