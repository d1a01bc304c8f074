// Reads what `ssh -G` prints (the fully resolved client configuration for one host) into typed fields.
import { OffloadError } from "../errors.js";

export interface SshResolved {
  /** The address ssh will connect to (HostName after Match/Include), lower-cased as ssh prints it. */
  hostname: string;
  user: string;
  port: number;
  /** In ssh's order; `~` is left as ssh prints it. Files that do not exist are skipped by ssh itself. */
  identityFiles: string[];
  certificateFiles: string[];
  identitiesOnly: boolean;
  proxyJump?: string;
  proxyCommand?: string;
  userKnownHostsFiles: string[];
  /** `yes`, `ask`, `accept-new`, `no`/`off`: reported, never changed by offload. */
  strictHostKeyChecking: string;
  /** Every option as ssh printed it, by lower-case keyword, in order (some repeat, like identityfile). */
  raw: Map<string, string[]>;
}

function collect(text: string): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const space = trimmed.indexOf(" ");
    const key = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : trimmed.slice(space + 1).trim();
    const values = raw.get(key);
    if (values) values.push(value);
    else raw.set(key, [value]);
  }
  return raw;
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== "" && value.toLowerCase() !== "none";
}

/** Parses `ssh -G` output. Throws E_SSH when the fields every connection has are missing. */
export function parseSshG(text: string): SshResolved {
  const raw = collect(text);
  const first = (key: string) => raw.get(key)?.[0];
  const hostname = first("hostname");
  const user = first("user");
  const port = Number(first("port"));
  if (
    !isSet(hostname) ||
    user === undefined ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    throw new OffloadError("E_SSH", "`ssh -G` printed no hostname, user or port.", {
      hint: "Check that `ssh -G <host>` works in a terminal; offload needs OpenSSH 6.8 or newer.",
    });
  }
  const resolved: SshResolved = {
    hostname,
    user,
    port,
    identityFiles: raw.get("identityfile") ?? [],
    certificateFiles: raw.get("certificatefile") ?? [],
    identitiesOnly: first("identitiesonly") === "yes",
    userKnownHostsFiles: (raw.get("userknownhostsfile") ?? [])
      .flatMap((line) => line.split(/\s+/))
      .filter(Boolean),
    strictHostKeyChecking: first("stricthostkeychecking") ?? "ask",
    raw,
  };
  const proxyJump = first("proxyjump");
  const proxyCommand = first("proxycommand");
  if (isSet(proxyJump)) resolved.proxyJump = proxyJump;
  if (isSet(proxyCommand)) resolved.proxyCommand = proxyCommand;
  return resolved;
}
