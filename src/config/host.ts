// Host strings (`[user@]host[:port][/path]`, `[::1]:22`, an ssh alias, `local`): parsing, refusing, printing.
import { OffloadError } from "../errors.js";

export type HostTarget =
  | { kind: "local" }
  | { kind: "ssh"; host: string; user?: string; port?: number; path?: string };

export const HOST_GRAMMAR =
  "A host is `[user@]host[:port][/path]` (e.g. `ubuntu@192.168.1.56:2222/workspace`), `[::1]:2222` for IPv6, an alias from ~/.ssh/config, a target name from offload.yaml, or `local`. The path is relative to the remote home; `host//abs/dir` is absolute, `host/~/dir` is under home.";

// Anything a shell, or ssh's own option parser, would read as more than a name. Refused everywhere,
// so a host string can never smuggle a command into a script or an option into argv.
const SHELL_META = /[;|&$`'"<>(){}*?!\\]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/;
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9._%+-]*$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?$/;
const USER_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@+-]*$/;

function refuse(text: string, why: string, hint = HOST_GRAMMAR): never {
  throw new OffloadError("E_HOST_SYNTAX", `Invalid host ${JSON.stringify(text)}: ${why}.`, {
    hint,
  });
}

const OPTION_HINT =
  "ssh reads a word starting with `-` as one of its options (`-oProxyCommand=…` runs a command), so offload never passes one as a host. Put ssh options in ~/.ssh/config under a `Host` alias and give the alias, or give another config file with `--ssh-config <file>` (`ssh: config_file:` in offload.yaml).";

function describeChar(char: string): string {
  if (WHITESPACE.test(char)) return "whitespace";
  if (CONTROL.test(char))
    return `a control character (U+${char.codePointAt(0)?.toString(16).padStart(4, "0")})`;
  return `the character \`${char}\``;
}

function checkCharacters(text: string): void {
  for (const char of text) {
    if (WHITESPACE.test(char) || CONTROL.test(char) || SHELL_META.test(char)) {
      refuse(text, `it contains ${describeChar(char)}`);
    }
  }
}

function parsePort(text: string, port: string): number {
  if (port === "") refuse(text, "the port after `:` is empty");
  if (!/^[0-9]{1,5}$/.test(port))
    refuse(text, `the port \`${port}\` is not a number from 1 to 65535`);
  const value = Number(port);
  if (value < 1 || value > 65535) refuse(text, `the port ${value} is not between 1 and 65535`);
  return value;
}

/** Splits `host[:port]` or `[v6][:port]` into the name ssh takes and the port. */
function splitHostPort(text: string, hostPort: string): { host: string; port?: number } {
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) refuse(text, "the `[` of an IPv6 address is not closed");
    const host = hostPort.slice(1, close);
    if (!IPV6.test(host)) refuse(text, `\`${host}\` in brackets is not an IPv6 address`);
    const rest = hostPort.slice(close + 1);
    if (rest === "") return { host };
    if (!rest.startsWith(":")) refuse(text, "only `:port` may follow `]`");
    return { host, port: parsePort(text, rest.slice(1)) };
  }
  const colons = hostPort.split(":").length - 1;
  if (colons > 1) refuse(text, "an IPv6 address must be written in brackets, like `[::1]:22`");
  const [host = "", port] = hostPort.split(":");
  if (host === "") refuse(text, "the host name is empty");
  if (host.startsWith("-"))
    refuse(text, "the host name starts with `-`, like an ssh option", OPTION_HINT);
  if (!HOST_NAME.test(host)) refuse(text, `\`${host}\` is not a host name`);
  return port === undefined ? { host } : { host, port: parsePort(text, port) };
}

/**
 * Parses a host string. The path keeps what follows the first `/` after host[:port], so `box/work` is
 * `work` (relative to the remote home, where ssh lands), `box//srv/x` is `/srv/x` and `box/~/x` is `~/x`.
 */
export function parseHost(text: string): HostTarget {
  if (text.trim() === "") refuse(text, "it is empty");
  // First, before its characters: `-oProxyCommand=…` is refused as the ssh option it is, whatever it holds.
  if (text.startsWith("-")) refuse(text, "it starts with `-`, like an ssh option", OPTION_HINT);
  checkCharacters(text);
  if (text === "local") return { kind: "local" };
  const slash = text.indexOf("/");
  const authority = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? undefined : text.slice(slash + 1);
  const at = authority.lastIndexOf("@");
  const user = at < 0 ? undefined : authority.slice(0, at);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  if (user !== undefined) {
    if (user === "") refuse(text, "the user before `@` is empty");
    if (!USER_NAME.test(user)) refuse(text, `\`${user}\` is not a user name`);
  }
  if (hostPort === "") refuse(text, "the host name is empty");
  const { host, port } = splitHostPort(text, hostPort);
  if (path === "")
    refuse(text, "the path after `/` is empty (leave out the `/` to use the remote home)");
  if (host === "local" && (user !== undefined || port !== undefined || path !== undefined)) {
    refuse(text, "`local` takes no user, port or path (set remote_dir instead)");
  }
  const target: HostTarget = { kind: "ssh", host };
  if (user !== undefined) target.user = user;
  if (port !== undefined) target.port = port;
  if (path !== undefined) target.path = path;
  return target;
}

/** The inverse of parseHost: parseHost(formatHost(t)) deep-equals t. */
export function formatHost(target: HostTarget): string {
  if (target.kind === "local") return "local";
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const user = target.user === undefined ? "" : `${target.user}@`;
  const port = target.port === undefined ? "" : `:${target.port}`;
  const path = target.path === undefined ? "" : `/${target.path}`;
  return `${user}${host}${port}${path}`;
}

/**
 * The host string with its port replaced by `port` (`--port` wins over a port in the string, as in
 * mltk). Text in, text out: the string may still be an alias or a target name, resolved later.
 */
export function replacePort(text: string, port: string): string {
  const match = /^((?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*))(?::[0-9]*)?(\/.*)?$/.exec(text);
  if (!match) return text;
  return `${match[1]}:${port}${match[2] ?? ""}`;
}
