// Runs the real CLI in a child process, as a user would, from the TypeScript sources.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("./entry.ts", import.meta.url));
// Resolved here, so the CLI can run with any working directory (a temp project has no node_modules).
const TSX = import.meta.resolve("tsx");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called with the child's pid once spawned (for signals). */
  onSpawn?: (pid: number) => void;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Closes our end of the child's stdout once this says so (as `| head` does): its writes then fail. */
  closeStdoutWhen?: (stdoutSoFar: string) => boolean;
}

export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, ENTRY, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(chunk.toString());
      if (options.closeStdoutWhen?.(stdout)) child.stdout.destroy();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(chunk.toString());
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 110_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === "SIGKILL" ? 137 : 1), stdout, stderr });
    });
  });
}

/** `--json` output: one JSON object a line. */
// biome-ignore lint/suspicious/noExplicitAny: tests read fields of whatever the CLI printed.
export function jsonLines(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** Runs the built CLI in a temp project, with the project's own HOME (no user settings leak in). */
export function runInProject(
  project: { dir: string; home: string },
  args: readonly string[],
): Promise<CliResult> {
  return runCli(args, { cwd: project.dir, env: { HOME: project.home } });
}
