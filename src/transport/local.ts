// The `local` Transport: the same run protocol in a private directory on this machine, without ssh.
import { runProcess } from "./process.js";
import type { ExecOptions, ExecResult, RemoteShell, Transport } from "./types.js";

export class LocalTransport implements Transport {
  readonly kind = "local";
  readonly label = "local";
  /** `sh -c` reads no rc file: nothing comes before the script's bytes. */
  readonly cleanStdout = true;

  async connect(): Promise<void> {}

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await runProcess(["sh", "-c", script], {
      ...options,
      cwd: process.env.HOME ?? "/",
    });
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
