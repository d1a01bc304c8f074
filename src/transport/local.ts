// The `local` Transport: the same run protocol in a private directory on this machine, without ssh.
import { existsSync } from "node:fs";
import { OffloadError } from "../errors.js";
import { runProcess } from "./process.js";
import type { ExecOptions, ExecResult, RemoteShell, Transport } from "./types.js";

export class LocalTransport implements Transport {
  readonly kind = "local";
  readonly label = "local";
  /** `sh -c` reads no rc file: nothing comes before the script's bytes. */
  readonly cleanStdout = true;

  async connect(): Promise<void> {}

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    // The scripts start in the home dir, as an ssh login does; the remote dirs are relative to it.
    const home = process.env.HOME ?? "/";
    const result = await runProcess(["sh", "-c", script], { ...options, cwd: home }).catch(
      (error: unknown) => {
        // A missing cwd fails the spawn as if `sh` were missing (ENOENT): say which it was. Checked
        // only after a failure, so a working run pays nothing for it.
        if (!existsSync(home)) throw homeMissing(home);
        throw error;
      },
    );
    return { ...result, connectionFailed: false };
  }

  explain(result: ExecResult): Error {
    return new Error(`local shell failed with status ${result.code}: ${result.stderr.trim()}`);
  }

  remoteShell(): RemoteShell {
    return {
      rsh: undefined,
      remotePath: (path) => path,
      shellArgv: (command) => ["sh", "-c", command],
    };
  }

  async close(): Promise<void> {}
}

function homeMissing(home: string): OffloadError {
  return new OffloadError(
    "E_HOST_UNREACHABLE",
    `The local target keeps its runs under your home dir, and HOME (${home}) does not exist.`,
    { hint: "Set HOME to a directory that exists (or create it), then run again." },
  );
}
