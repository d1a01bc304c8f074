// The one place that quotes values for a POSIX shell on the far side: every argument that reaches a remote
// shell goes through here.

/** POSIX single-quote quoting: safe for any byte string, including newlines, `$()`, quotes and dashes. */
export function quoteShell(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Quotes a remote path, keeping a leading `~/` (or a bare `~`) as the remote user's home: the home dir is
 * only known over there, so it is expanded by the remote shell through "$HOME".
 */
export function quoteRemotePath(path: string): string {
  if (path === "~") return `"$HOME"`;
  if (path.startsWith("~/")) {
    const rest = path.slice(2);
    return rest === "" ? `"$HOME"/` : `"$HOME"/${quoteShell(rest)}`;
  }
  return quoteShell(path);
}

/** Quotes every word of an argv and joins them: the command line a remote shell will split back. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteShell).join(" ");
}
