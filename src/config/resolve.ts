// Completes loaded settings with what `ssh -G` says about the host: the address, user, port and keys in use.

import type { SshResolved } from "../transport/ssh-g.js";
import { resolveSsh } from "../transport/ssh-resolve.js";
import type { LoadedSettings, Source } from "./settings.js";

export type Connection =
  | { kind: "local" }
  | {
      kind: "ssh";
      /** What ssh is given as the host: an alias or an address, as the user wrote it. */
      host: string;
      hostname: string;
      user: string;
      port: number;
      identityFiles: string[];
      certificateFiles: string[];
      proxyJump?: string;
      proxyCommand?: string;
      userKnownHostsFiles: string[];
      strictHostKeyChecking: string;
      configFile?: string;
      connectTimeout?: number;
    };

export interface ResolvedSettings extends LoadedSettings {
  connection: Connection;
}

/** Pure: joins ssh's view to the settings. A user or port in the host string outranks ssh's config. */
export function applySshResolved(
  loaded: LoadedSettings,
  ssh: SshResolved | undefined,
): ResolvedSettings {
  const { settings } = loaded;
  if (settings.host.kind === "local" || ssh === undefined)
    return { ...loaded, connection: { kind: "local" } };
  const host = settings.host;
  const sources: Record<string, Source> = { ...loaded.sources };
  const fromHost = sources.host ?? { kind: "default" };
  sources.hostname = { kind: "ssh" };
  sources.user = host.user !== undefined ? fromHost : { kind: "ssh" };
  sources.port = host.port !== undefined ? fromHost : { kind: "ssh" };
  sources.identity_files = { kind: "ssh" };
  const connection: Connection = {
    kind: "ssh",
    host: host.host,
    hostname: ssh.hostname,
    user: ssh.user,
    port: ssh.port,
    identityFiles: ssh.identityFiles,
    certificateFiles: ssh.certificateFiles,
    userKnownHostsFiles: ssh.userKnownHostsFiles,
    strictHostKeyChecking: ssh.strictHostKeyChecking,
  };
  if (ssh.proxyJump !== undefined) {
    connection.proxyJump = ssh.proxyJump;
    sources.proxy_jump = { kind: "ssh" };
  }
  if (ssh.proxyCommand !== undefined) connection.proxyCommand = ssh.proxyCommand;
  if (settings.ssh.configFile !== undefined) connection.configFile = settings.ssh.configFile;
  if (settings.ssh.connectTimeout !== undefined)
    connection.connectTimeout = settings.ssh.connectTimeout;
  return { ...loaded, sources, connection };
}

/** Runs `ssh -G` for an ssh host (nothing for `local`) and joins its answer to the settings. */
export async function resolveSettings(loaded: LoadedSettings): Promise<ResolvedSettings> {
  const { host, ssh } = loaded.settings;
  if (host.kind === "local") return applySshResolved(loaded, undefined);
  const resolved = await resolveSsh(
    { host: host.host, user: host.user, port: host.port },
    { configFile: ssh.configFile },
  );
  return applySshResolved(loaded, resolved);
}
