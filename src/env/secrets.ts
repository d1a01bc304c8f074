// Secrets for a run: read on this machine (an env var or a file), sent over the launch round trip's
// stdin into a 0600 file that the launcher sources and deletes before the job starts (DESIGN.md).
// Never on a command line, where `ps` would show them, and never in spec.json or the run record.
import { OffloadError } from "../errors.js";
import { quoteShell } from "../remote/quote.js";

/** Reads a secret file as text; throws when it cannot (the caller's fs.readFileSync does). */
export type ReadSecretFile = (path: string) => string;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_DIR_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SECRETS_FILE = "secrets.sh";

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

/** The file the launcher sources: one `export NAME='value'` line a secret, in the order given. */
export function encodeSecretsFile(secrets: Readonly<Record<string, string>>): string {
  return Object.entries(secrets)
    .map(([name, value]) => {
      if (!NAME.test(name)) throw new Error(`encodeSecretsFile: bad name ${JSON.stringify(name)}`);
      return `export ${name}=${quoteShell(value)}\n`;
    })
    .join("");
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
 * Launcher lines, after its env exports and before the job starts: export the secrets and delete the
 * file at once, so it exists only for the moment between the launch round trip and the launcher.
 */
export function buildSecretsSourceLines(runDirVar: string): string[] {
  checkRunDirVar(runDirVar);
  const file = `"$${runDirVar}/${SECRETS_FILE}"`;
  return [`if [ -f ${file} ]; then . ${file}; rm -f ${file}; fi`];
}
