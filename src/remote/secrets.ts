// Secrets for a run: read on this machine (an env var or a file), sent over the launch round trip's
// stdin into a 0600 file that the launcher sources and deletes before the job starts (DESIGN.md).
// Never on a command line, where `ps` would show them, and never in spec.json or the run record.
import { OffloadError } from "../errors.js";
import { quoteShell } from "../shell/quote.js";

/** Reads a secret file as text; throws when it cannot (the caller's fs.readFileSync does). */
export type ReadSecretFile = (path: string) => string;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_DIR_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SECRETS_FILE = "secrets.sh";
/** Linux's MAX_ARG_STRLEN: the longest `NAME=value` string (with its NUL) a process can be given. */
const MAX_ENV_STRING = 128 * 1024;

function formatKiB(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

function secretError(message: string, hint: string, cause?: unknown): OffloadError {
  return new OffloadError("E_SECRET", message, cause === undefined ? { hint } : { hint, cause });
}

/**
 * `--secret NAME` takes the value of the local environment variable NAME; `--secret NAME=@path` the
 * contents of a file (`~/` is the local home), less one trailing newline, which editors and `echo` add
 * and no token means. A value written inline (`NAME=value`) is refused: it would sit in shell history.
 */
export function resolveSecrets(
  specs: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: ReadSecretFile,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const spec of specs) {
    const equals = spec.indexOf("=");
    const name = equals === -1 ? spec : spec.slice(0, equals);
    if (!NAME.test(name))
      throw secretError(
        `--secret ${JSON.stringify(spec)}: ${JSON.stringify(name)} is not an environment variable name.`,
        "Use letters, digits and _ (not starting with a digit): --secret HF_TOKEN or --secret HF_TOKEN=@~/.hf_token.",
      );
    if (Object.hasOwn(secrets, name))
      throw secretError(`--secret ${name} is given twice.`, "Give each secret once.");
    const value =
      equals === -1 ? readVariable(name, env) : readSecretFile(spec, equals, env, readFile);
    // Linux refuses to start a program with one environment string over 128 KiB (E2BIG, "Argument list
    // too long"): the job could never start, so say so before anything reaches the host.
    if (Buffer.byteLength(`${name}=${value}`) >= MAX_ENV_STRING)
      throw secretError(
        `The secret ${name} is ${formatKiB(Buffer.byteLength(value))}; no environment variable over 128 KiB can reach a program ("Argument list too long").`,
        `Send it as a file instead: put it in the project (listed in .gitignore) or an upload rule, and have the job read it; or pass a path or a smaller token as the secret.`,
      );
    if (value.includes("\0"))
      throw secretError(
        `The secret ${name} contains a NUL byte, which no environment variable can hold.`,
        "Pass text secrets only; encode binary ones (base64) and decode them in the job.",
      );
    secrets[name] = value;
  }
  return secrets;
}

function readVariable(name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined)
    throw secretError(
      `The secret ${name} is not set in this shell's environment.`,
      `Export it first (export ${name}=…, or read it from a password manager), or take it from a file: --secret ${name}=@path/to/file.`,
    );
  return value;
}

function readSecretFile(
  spec: string,
  equals: number,
  env: NodeJS.ProcessEnv,
  readFile: ReadSecretFile,
): string {
  const name = spec.slice(0, equals);
  const source = spec.slice(equals + 1);
  if (!source.startsWith("@") || source.length === 1)
    throw secretError(
      `--secret ${name}=… gives the value inline, where shell history and \`ps\` would keep it.`,
      `Export it and pass --secret ${name}, or put it in a file and pass --secret ${name}=@path/to/file.`,
    );
  const written = source.slice(1);
  const home = env.HOME;
  const path =
    written.startsWith("~/") && home !== undefined ? `${home}/${written.slice(2)}` : written;
  try {
    return readFile(path).replace(/\r?\n$/, "");
  } catch (error) {
    throw secretError(
      `Could not read the secret ${name} from ${path}: ${error instanceof Error ? error.message : String(error)}`,
      "Check the path (relative paths start in the current directory) and that the file is readable.",
      error,
    );
  }
}

/**
 * The file the launcher sources: one `NAME='value'` line a secret, in the order given, then the names.
 * Not exported yet: the `rm` that deletes the file must not carry them (a big one makes its exec fail).
 */
export function encodeSecretsFile(secrets: Readonly<Record<string, string>>): string {
  const names = Object.keys(secrets);
  for (const name of names)
    if (!NAME.test(name)) throw new Error(`encodeSecretsFile: bad name ${JSON.stringify(name)}`);
  const lines = Object.entries(secrets).map(([name, value]) => `${name}=${quoteShell(value)}\n`);
  return `${lines.join("")}offload_secret_names='${names.join(" ")}'\n`;
}

function checkRunDirVar(runDirVar: string): void {
  if (!RUN_DIR_VAR.test(runDirVar)) throw new Error(`bad shell variable name ${runDirVar}`);
}

/**
 * Launch round-trip lines that take the first `byteCount` bytes of stdin into "$<var>/secrets.sh",
 * created 0600, and leave the rest of stdin (spec.json) to the next reader. `dd bs=1` reads one byte
 * a call, so it never takes a byte past the secrets, on any system; `head -c` may read ahead on some
 * (BSD, busybox). A short read (the connection died) removes the file and stops the launch.
 */
export function buildSecretsReceiveLines(runDirVar: string, byteCount: number): string[] {
  checkRunDirVar(runDirVar);
  if (!Number.isInteger(byteCount) || byteCount < 0) throw new Error(`bad byte count ${byteCount}`);
  if (byteCount === 0) return [];
  const file = `"$${runDirVar}/${SECRETS_FILE}"`;
  return [
    `( umask 077; dd bs=1 count=${byteCount} of=${file} 2>/dev/null )`,
    `if [ "$(($(wc -c < ${file} 2>/dev/null || echo 0)))" != ${byteCount} ]; then`,
    `  rm -f ${file}; echo "offload: the run's secrets did not arrive whole" >&2; exit 1`,
    `fi`,
  ];
}

/**
 * Launcher lines, after its env exports and before the job starts: read the secrets, empty the file
 * with a builtin (no PATH, no exec that could fail) and delete it, then export them. The file exists
 * only for the moment between the launch round trip and the launcher, and never outlives it whole.
 */
export function buildSecretsSourceLines(runDirVar: string): string[] {
  checkRunDirVar(runDirVar);
  const file = `"$${runDirVar}/${SECRETS_FILE}"`;
  return [
    `if [ -f ${file} ]; then . ${file}; : > ${file}; rm -f ${file}; export $offload_secret_names; fi`,
  ];
}
